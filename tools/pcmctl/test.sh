#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# tools/pcmctl/test.sh - unit tests of pcmctl that need no kernel module.
#
# Builds pcmctl (make -C tools/pcmctl), then checks the command line, the
# feature-list parser, the identity commands (check --host: the brief's
# four-row table, exit codes, errors), vms/show/set on a fake sysfs tree,
# the man page (groff lint, every --help command documented), the mode
# tables and the CPUID dump
# decoder against
# the real dumps in shared/cpuid, found as ../shared/cpuid next to the
# checkout root (`git rev-parse --show-toplevel`); the dump tests are
# skipped with a message when that directory is absent.
#
# Output is TAP; the last line is "pcmctl: N passed, N failed, N skipped".
# Exit status: 0 when nothing failed, 1 otherwise.
#
# Environment:
#   PCMCTL             the binary to test (default: tools/pcmctl/pcmctl,
#                      built first)
#   PCMCTL_CPUID_DIR   the dump directory (default: ../shared/cpuid)
#
# Many checks are single-quoted strings for eval, expanded when they run.
# shellcheck disable=SC2016,SC2317

set -u

TAP_NAME=pcmctl
# shellcheck source-path=SCRIPTDIR source=testlib.sh
. "$(dirname "${BASH_SOURCE[0]}")/testlib.sh"

# sorted_words LIST: one word a line, sorted.  join_words A B: words in both.
sorted_words() {
	tr ' ' '\n' <<<"$1" | sed '/^$/d' | sort
}

join_words() {
	comm -12 <(sorted_words "$1") <(sorted_words "$2") | tr '\n' ' '
}

# ---------------------------------------------------------------------------
# Command line

run --help
expect "--help exits 0" 0 "^Usage: pcmctl"
cmds=$(sed -n '/^Commands:/,/^$/p' <<<"$out" | sed -n 's/^  \([a-z][a-z-]*\).*/\1/p')
check "--help lists the commands (modes ... diff)" \
	eval 'grep -qx modes <<<"$cmds" && grep -qx diff <<<"$cmds"'
check "--help says where the JSON keys are and what exit status means" \
	eval 'grep -q "pcm_kvm.KIND/1" <<<"$out" && grep -q "^Exit status" <<<"$out"'
for c in $cmds; do
	run "$c" --help
	expect "$c --help: its usage and help, exit 0" 0 "^usage: pcmctl $c( |$)"
	run help "$c"
	expect "help $c: the same" 0 "^usage: pcmctl $c( |$)"
	run "$c" --bogus-option
	expect "$c --bogus-option: usage error naming it" 2 "^$" \
		"unknown option '--bogus-option'"
done
run check --help
for c in "FILE --host HOST_IDENTITY_FILE" "pool file" "narrowed by the VM's mode"; do
	if grep -q -- "$c" <<<"$out"; then
		ok "check --help documents '$c'"
	else
		not_ok "check --help documents '$c'" "$out"
	fi
done
run --version
expect "--version: the version, the ABI and the formats" 0 \
	"^pcmctl [0-9][^ ]* \(pcm_kvm ABI [0-9]+; formats: profile 1, pool 1, identity 1-2, JSON 1\)$"
run help nosuch
expect "help of an unknown command: usage error" 2 "^$" "unknown command 'nosuch'"
# options after operands, --opt=value, and -- end the options
run parse -- --json
expect "parse -- --json: after --, an operand" 1 "^$" "unknown feature '--json'"
run parse sse2 --json
expect "parse LIST --json: an option after an operand" 0 '"features": \["sse2"\]'

run
expect "no command: usage error" 2 "" "missing command"
run frobnicate
expect "unknown command: usage error naming it" 2 "" "frobnicate"
run modes --html
expect "modes with a bad option: usage error" 2
run features --html
expect "features with a bad option: usage error" 2
run decode
expect "decode without --from-cpuid: usage error" 2
run decode --from-cpuid
expect "decode without FILE: usage error" 2
run host extra
expect "host with an argument: usage error" 2
run vm 12x-3
expect "vm with a malformed PID-FD: usage error naming it" 2 "" "12x-3"
run vm 0-3
expect "vm with PID 0: usage error" 2
run set-mode 1-2
expect "set-mode without MODE: usage error" 2
run set-mode 1-2 x86-64-v5
expect "set-mode with an unknown mode: usage error naming it" 2 "" "x86-64-v5"
run set-mode 1 min
expect "set-mode with a malformed PID-FD: usage error" 2

if [ ! -e /dev/pcm_kvm ]; then
	run host
	expect "host without the module: operational failure" 1 "" "/dev/pcm_kvm"
	run vm 1-1
	expect "vm of a VM that does not exist: operational failure" 1
else
	skip "host without the module" "/dev/pcm_kvm exists"
	skip "vm of a VM that does not exist" "/dev/pcm_kvm exists"
fi

# vm, on a sysfs tree made here
sys=$tmp/sysfs
mkdir -p "$sys/vms/123-4" "$sys/vms/99-10"
echo x86-64-v2 >"$sys/vms/123-4/mode"
echo "fpu sse avx" >"$sys/vms/123-4/requested"
echo "fpu sse" >"$sys/vms/123-4/visible"
echo "avx" >"$sys/vms/123-4/hidden"
echo off >"$sys/vms/99-10/mode"
PCMCTL_SYSFS=$sys run vm 123-4
expect_out "vm PID-FD: shows mode, requested, visible, hidden" 0 \
	"vm: 123-4
mode: x86-64-v2
requested: fpu sse avx
visible: fpu sse
hidden: avx"
PCMCTL_SYSFS=$sys run vm
expect_out "vm: lists the VMs with their modes" 0 "123-4 x86-64-v2
99-10 off"
PCMCTL_SYSFS=$sys run vm 5-6
expect "vm of an unknown VM: operational failure naming it" 1 "" "5-6"
rm -r "${sys:?}/vms/"*
PCMCTL_SYSFS=$sys run vm
expect_out "vm: no VM" 0 "no VM"

# vms, show, set: two VMs, one of a live process (this shell) and one of a
# process that is gone, blocked
sys=$tmp/sysfs2
live=$$-11
gone=2147483646-7
mkdir -p "$sys/vms/$live" "$sys/vms/$gone"
echo x86-64-v3 >"$sys/vms/$live/mode"
echo "fpu sse sse2 avx avx512f" >"$sys/vms/$live/requested"
echo "fpu sse sse2 avx" >"$sys/vms/$live/visible"
echo "avx512f" >"$sys/vms/$live/hidden"
printf 'pcm_kvm_identity: 1\nmode: x86-64-v3\n' >"$sys/vms/$live/identity"
echo baseline >"$sys/vms/$gone/mode"
echo "fpu" >"$sys/vms/$gone/visible"
: >"$sys/vms/$gone/hidden"
echo "blocked: host lacks avx2" >"$sys/vms/$gone/status"
comm=$(<"/proc/$$/comm")
PCMCTL_SYSFS=$sys run vms
expect "vms: a header" 0 "^VM +PID +COMM +MODE +VISIBLE +HIDDEN +STATUS$"
expect "vms: the live VM: pid, comm, mode, counts, no status" 0 \
	"^$live +$$ +$comm +x86-64-v3 +4 +1 +-$"
expect "vms: the gone VM: comm -, blocked status" 0 \
	"^$gone +2147483646 +- +baseline +1 +0 +blocked: host lacks avx2$"
# The MODE and STATUS columns start where their headings do, in every row.
check "vms: columns aligned" eval 'awk "
	NR == 1 { m = index(\$0, \"MODE\"); s = index(\$0, \"STATUS\"); next }
	substr(\$0, m - 2, 2) != \"  \" || substr(\$0, m, 1) == \" \" ||
	substr(\$0, s - 2, 2) != \"  \" || substr(\$0, s, 1) == \" \" { exit 1 }
" <<<"$out"'
check "vms: 3 lines" eval '[ "$(wc -l <<<"$out")" = 3 ]'
PCMCTL_SYSFS=$sys run vms --json
check "vms --json: parses (python3 -m json.tool)" eval \
	'python3 -m json.tool <<<"$out" >/dev/null'
check "vms --json: fields" eval 'python3 -c "
import json, sys
d = json.loads(sys.stdin.read())
assert d[\"format\"] == \"pcm_kvm.vms/1\", d
v = d[\"vms\"]
assert len(v) == 2, v
a = [x for x in v if x[\"id\"] == \"$live\"][0]
b = [x for x in v if x[\"id\"] == \"$gone\"][0]
assert a[\"pid\"] == $$ and a[\"comm\"] == \"$comm\" and a[\"mode\"] == \"x86-64-v3\"
assert a[\"visible_count\"] == 4 and a[\"hidden_count\"] == 1 and a[\"status\"] is None
assert a[\"visible\"] == [\"fpu\", \"sse\", \"sse2\", \"avx\"] and a[\"hidden\"] == [\"avx512f\"]
assert a[\"identity\"] == \"pcm_kvm_identity: 1\nmode: x86-64-v3\"
assert b[\"comm\"] is None and b[\"status\"] == \"blocked: host lacks avx2\"
assert b[\"hidden\"] == [] and b[\"identity\"] is None and b[\"visible_count\"] == 1
" <<<"$out"'
PCMCTL_SYSFS=$sys run vms --bogus
expect "vms --bogus: usage error" 2 "" "usage: pcmctl vms"
PCMCTL_SYSFS=$tmp/nothing-here run vms
expect "vms without sysfs: operational failure" 1 "" "nothing-here/vms"
PCMCTL_SYSFS=$sys run show "$live"
expect_out "show PID-FD: process, mode, status, requested, visible, hidden" 0 \
	"vm: $live
process: $$ $comm
mode: x86-64-v3
status: -
requested: fpu sse sse2 avx avx512f
visible (4): fpu sse sse2 avx
hidden (1): avx512f"
PCMCTL_SYSFS=$sys run show "$gone"
expect_out "show of a blocked VM of a gone process" 0 \
	"vm: $gone
process: 2147483646 -
mode: baseline
status: blocked: host lacks avx2
visible (1): fpu
hidden (0): (none)"
PCMCTL_SYSFS=$sys run show "$gone" --json
check "show --json: parses (python3 -m json.tool)" eval \
	'python3 -m json.tool <<<"$out" >/dev/null'
check "show --json: fields" eval 'python3 -c "
import json, sys
b = json.loads(sys.stdin.read())
assert b[\"id\"] == \"$gone\" and b[\"mode\"] == \"baseline\" and b[\"comm\"] is None
assert b[\"status\"] == \"blocked: host lacks avx2\" and b[\"requested\"] is None
assert b[\"visible\"] == [\"fpu\"] and b[\"hidden\"] == []
" <<<"$out"'
PCMCTL_SYSFS=$sys run show --json "$live"
check "show --json before PID-FD: requested listed" eval 'python3 -c "
import json, sys
a = json.loads(sys.stdin.read())
assert a[\"requested\"] == [\"fpu\", \"sse\", \"sse2\", \"avx\", \"avx512f\"]
" <<<"$out"'
PCMCTL_SYSFS=$sys run show 5-6
expect "show of an unknown VM: operational failure naming it" 1 "^$" "5-6"
run show
expect "show without PID-FD: usage error" 2 "^$" "usage: pcmctl show"
run show 12x
expect "show of a bad PID-FD: usage error" 2 "^$" "not PID-FD"
run set 1-2 bogus
expect "set with an unknown mode: usage error" 2 "^$" "unknown mode 'bogus'"
run set 1-2
expect "set without MODE: usage error" 2 "^$" "usage: pcmctl set \[--json\] PID-FD MODE"
run set-mode 1-2
expect "set-mode (alias) without MODE: usage error" 2 "^$" "usage: pcmctl set-mode"
rm -r "${sys:?}/vms/"*
PCMCTL_SYSFS=$sys run vms
expect_out "vms: no VM, header only" 0 "VM  PID  COMM  MODE  VISIBLE  HIDDEN  STATUS"
PCMCTL_SYSFS=$sys run vms --json
expect_out "vms --json: no VM, empty array" 0 '{"format": "pcm_kvm.vms/1", "vms": []}'

# ---------------------------------------------------------------------------
# The man page

man8=$here/pcmctl.8
if command -v groff >/dev/null; then
	warn=$(groff -man -ww -z "$man8" 2>&1)
	check "pcmctl.8: groff -man -ww -z without warnings" eval '[ -z "$warn" ]'
	[ -z "$warn" ] || note "$warn"
else
	skip "pcmctl.8: groff -man -ww -z without warnings" "no groff"
fi
if command -v man >/dev/null; then
	page=$(LC_ALL=C MANWIDTH=80 man -l "$man8" 2>"$tmp/manerr" | col -b)
	check "pcmctl.8: man -l renders without warnings" eval \
		'[ -n "$page" ] && [ ! -s "$tmp/manerr" ]'
	run --help
	cmds=$(sed -n '/^Commands:/,/^$/p' <<<"$out" |
	       sed -n 's/^  \([a-z][a-z-]*\).*/\1/p' | sort -u)
	missing=
	for c in $cmds; do
		grep -Eq "^ +$c( |,|$)" <<<"$page" || missing="$missing $c"
	done
	check "pcmctl.8: every command of --help ($(wc -w <<<"$cmds")) documented" \
		eval '[ -n "$cmds" ] && [ -z "$missing" ]'
	[ -z "$missing" ] || note "missing from pcmctl.8:$missing"
	for s in "EXIT STATUS" ENVIRONMENT FILES EXAMPLES; do
		check "pcmctl.8: has $s" eval 'grep -q "^$s" <<<"$page"'
	done
	check "pcmctl.8: documents PCMCTL_SYSFS" eval 'grep -q PCMCTL_SYSFS <<<"$page"'
else
	skip "pcmctl.8: man -l renders" "no man"
fi

# ---------------------------------------------------------------------------
# parse

run parse "sse4.2,AVX lzcnt  pni"
expect "parse: aliases, case, commas and blanks; table order" 0 "^pni sse4_2 avx abm$"
run parse sse4_2 SSE4-2 sse4.2
expect "parse: one name however spelt, printed once" 0 "^sse4_2$"
run parse xsave,avx
expect "parse: a closed list prints no note" 0 "^xsave avx$"
check "parse: a closed list prints no note (stderr empty)" test -z "$err"
run parse avx
expect "parse: an unclosed list is noted" 0 "^avx$" "avx \\(needs xsave\\)"
run parse avx,frobnicate,sse
expect "parse: an unknown name is an error naming it" 1 "" "'frobnicate'"
check "parse: the error names only the bad token" \
	eval '! grep -q "avx\|sse" <<<"$err"'
run parse sse2 "sse3 sse9"
expect "parse: an unknown name in a later argument" 1 "" "'sse9'"
run parse "$(printf 'x%.0s' {1..40})"
expect "parse: an overlong name is an error" 1 "" "xxxxxxxx"
run parse " , ,"
expect "parse: a list without names is an error" 1 "" "no feature name"
run parse
expect "parse without LIST: usage error" 2

# Every name and alias of the table parses back to itself.
run features
names=$(awk 'NR > 1 { print $1 }' <<<"$out" | tr '\n' ' ')
names=${names% }
aliases=$(awk 'NR > 1 && $2 != "-" { print $1 "=" $2 }' <<<"$out")
nfeat=$(wc -w <<<"$names")
run parse "$names"
expect "parse: every feature name of the table round-trips ($nfeat names)" 0 "^${names}\$"
bad=""
while IFS='=' read -r name alias; do
	run parse "$alias"
	[ "$rc" = 0 ] && [ "$out" = "$name" ] || bad+=" $alias->$out"
done <<<"$aliases"
check "parse: every QEMU alias gives its canonical name${bad:+ (bad:$bad)}" test -z "$bad"

# --json on every command that prints: checked with python's json module.
# json_check DESC PYTHON-ASSERTIONS (d is the parsed stdout) after run.
json_check() {
	check "$1" python3 -c "import json, sys; d = json.loads(sys.argv[1]); $2" "$out"
}

run parse --json "sse4.2,AVX" xsave
expect "parse --json: exits 0" 0
json_check "parse --json: the canonical names in table order" \
	'assert d["format"] == "pcm_kvm.parse/1" and d["features"] == ["sse4_2", "xsave", "avx"], d'
run modes --json
json_check "modes --json: the six modes, off and baseline without a fixed list" \
	'assert d["format"] == "pcm_kvm.modes/1"; d = d["modes"]; assert [m["mode"] for m in d] == ["off", "min", "x86-64-v2", "x86-64-v3", "x86-64-v4", "baseline"]; assert d[0]["allow"] is None and d[5]["allow"] is None; assert "sse4_2" in d[2]["allow"] and "sse4_2" not in d[1]["allow"]'
json_check "modes --json: each level allows what the one before does" \
	'd = d["modes"]; assert all(set(d[i]["allow"]) <= set(d[i + 1]["allow"]) for i in (1, 2, 3))'
run features --json
json_check "features --json: every feature with its CPUID location (avx: 1.0 ECX[28], needs xsave)" \
	'assert d["format"] == "pcm_kvm.features/1"; f = {x["name"]: x for x in d["features"]}; a = f["avx"]; assert (a["leaf"], a["subleaf"], a["register"], a["bit"], a["class"], a["level"], a["needs"]) == (1, 0, "ECX", 28, "HW", "x86-64-v3", ["xsave"]), a; assert f["abm"]["alias"] == "lzcnt"'
run features --json
nf=$(python3 -c 'import json, sys; print(len(json.loads(sys.argv[1])["features"]))' "$out")
run features
check "features --json: as many features as the table ($nf)" \
	eval '[ "$nf" = "$(($(wc -l <<<"$out") - 1))" ]'
run features --json --markdown
expect "features --json --markdown: usage error" 2

# ---------------------------------------------------------------------------
# modes, features

run modes
expect "modes: exits 0" 0
# shellcheck disable=SC2034 # used by the eval checks below
{
	min=$(field min)
	v2=$(field x86-64-v2)
	v3=$(field x86-64-v3)
	v4=$(field x86-64-v4)
}
check "modes: min lacks sse4_2" eval '! has_word "$min" sse4_2'
check "modes: min has the psABI v1 set and lm, nx, syscall" eval \
	'for f in cmov cx8 fpu fxsr mmx syscall sse sse2 lm nx; do has_word "$min" $f || exit 1; done'
check "modes: x86-64-v2 has the psABI v2 set" eval \
	'for f in cx16 lahf_lm popcnt pni sse4_1 sse4_2 ssse3; do has_word "$v2" $f || exit 1; done'
check "modes: x86-64-v2 lacks avx" eval '! has_word "$v2" avx'
check "modes: x86-64-v3 has the psABI v3 set" eval \
	'for f in avx avx2 bmi1 bmi2 f16c fma abm movbe xsave; do has_word "$v3" $f || exit 1; done'
check "modes: x86-64-v3 lacks avx512f" eval '! has_word "$v3" avx512f'
check "modes: x86-64-v4 has the psABI v4 set" eval \
	'for f in avx512f avx512bw avx512cd avx512dq avx512vl; do has_word "$v4" $f || exit 1; done'
check "modes: every mode passes KVM features through" eval \
	'for l in "$min" "$v2" "$v3" "$v4"; do has_word "$l" x2apic && has_word "$l" hypervisor || exit 1; done'
check "modes: osxsave is hidden with xsave in min" eval '! has_word "$min" osxsave'
check "modes: each level includes the one below" eval \
	'for f in $min; do has_word "$v2" $f || exit 1; done;
	 for f in $v2; do has_word "$v3" $f || exit 1; done;
	 for f in $v3; do has_word "$v4" $f || exit 1; done'
check "modes: baseline is described by its sysfs file" \
	grep -q "^baseline: .*/sys/kernel/pcm_kvm/baseline" <<<"$out"

run modes --markdown
expect "modes --markdown: exits 0" 0 \
	"^\\| Feature \\| CPUID leaf.subleaf reg\\[bit\\] \\| min \\| x86-64-v2 \\| x86-64-v3 \\| x86-64-v4 \\|$"
md=$out
# row FEATURE -> "min v2 v3 v4" cells of its row, each "Y" or "-".
row() {
	awk -F'|' -v f="\`$1\`" '
		{ for (i = 2; i <= NF; i++) gsub(/^ +| +$/, "", $i) }
		$2 == f { r = ""
			  for (i = 4; i <= 7; i++) r = r ($i == "✓" ? "Y" : ($i == "" ? "-" : "?")) " "
			  print r }' <<<"$md"
}
check "modes --markdown: sse4_2 under x86-64-v2 and later, not min" \
	test "$(row sse4_2)" = "- Y Y Y "
check "modes --markdown: sse4_2 row gives its CPUID location" \
	grep -Fq '| `sse4_2` | 0x1.0 ECX[20] |' <<<"$md"
check "modes --markdown: fpu in every mode" test "$(row fpu)" = "Y Y Y Y "
check "modes --markdown: avx2 from x86-64-v3" test "$(row avx2)" = "- - Y Y "
check "modes --markdown: avx512f only in x86-64-v4" test "$(row avx512f)" = "- - - Y "
check "modes --markdown: a feature no level allows has no row (sse4a)" \
	test -z "$(row sse4a)"
check "modes --markdown: every table row has 6 cells" eval \
	'! grep "^|" <<<"$md" | awk -F"|" "NF != 8 { bad = 1 } END { exit !bad }"'
check "modes --markdown: KVM/INFO/INV/SCRUB classes pass through" eval \
	'for c in KVM INFO INV SCRUB; do grep -q "^| $c: .* | ✓ | ✓ | ✓ | ✓ |$" <<<"$md" || exit 1; done'
check "modes --markdown: closure hides osxsave in min (needs xsave)" \
	grep -q '^- min: .*`osxsave` (needs `xsave`)' <<<"$md"
check "modes --markdown: nothing hidden by closure in x86-64-v4" \
	grep -q '^- x86-64-v4: none$' <<<"$md"
check "modes --markdown: table rows agree with modes" eval '
	for f in $v2; do
		r=$(row "$f"); [ -z "$r" ] || [ "${r:2:1}" = Y ] || exit 1
	done'

run features --markdown
expect "features --markdown: exits 0" 0 \
	'^\| `sse4_2` \| `sse4\.2` \| 0x1\.0 ECX\[20\] \| HW \| x86-64-v2 \| yes \| `sse4_1` \|$'
check "features --markdown: one row per feature" \
	test "$(grep -c '^| `' <<<"$out")" = "$nfeat"
check "features --markdown: a KVM feature has no level (x2apic)" \
	grep -Fq '| `x2apic` | - | 0x1.0 ECX[21] | KVM | - | yes | `apic` |' <<<"$out"
check "features --markdown: a level-less HW feature says none (aes)" \
	grep -Fq '| `aes` | - | 0x1.0 ECX[25] | HW | none | yes | `sse2` |' <<<"$out"

# ---------------------------------------------------------------------------
# decode: the parser, on dumps made here

sample='CPU:
   0x00000000 0x00: eax=0x0000000b ebx=0x756e6547 ecx=0x6c65746e edx=0x49656e69
   0x00000001 0x00: eax=0x000106a2 ebx=0x00100800 ecx=0x00bce3bd edx=0xbfebfbff
   0x00000007 0x00: eax=0x00000000 ebx=0x00000000 ecx=0x00000000 edx=0x00000000
   0x80000000 0x00: eax=0x80000008 ebx=0x00000000 ecx=0x00000000 edx=0x00000000
   0x80000001 0x00: eax=0x00000000 ebx=0x00000000 ecx=0x00000001 edx=0x28100800'
printf '%s\n' "$sample" >"$tmp/good.cpuid"
run decode --from-cpuid "$tmp/good.cpuid"
expect "decode: a small Nehalem-like dump" 0 "^level: x86-64-v2$"
check "decode: vendor" test "$(field vendor)" = GenuineIntel
check "decode: family/model/stepping" \
	test "$(field family) $(field model) $(field stepping)" = "0x6 (6) 0x1a (26) 0x2 (2)"
check "decode: feature names" eval 'has_word "$(field features)" sse4_2 && ! has_word "$(field features)" avx'
check "decode: what the next level lacks" eval \
	'has_word "$(field "missing for x86-64-v3")" avx2'

run decode --from-cpuid - <"$tmp/good.cpuid"
expect "decode: - reads standard input" 0 "^level: x86-64-v2$"

printf '%s\n' "$sample" | sed 's/$/\r/' >"$tmp/crlf.cpuid"
run decode --from-cpuid "$tmp/crlf.cpuid"
expect "decode: CRLF line ends" 0 "^level: x86-64-v2$"

{ echo "CPU 0:"; printf '%s\n' "$sample" | tail -n +2
  echo "CPU 1:"; printf '%s\n' "$sample" | tail -n +2 | sed 's/ecx=0x00bce3bd/ecx=0x00000000/'
  echo "trailing garbage after the first CPU is not read"; } >"$tmp/multi.cpuid"
run decode --from-cpuid "$tmp/multi.cpuid"
expect "decode: only the first CPU of a multi-CPU dump" 0 "^level: x86-64-v2$"

# bad_dump DESC LINE-NO STDERR-REGEX: the dump in $tmp/bad.cpuid is refused.
bad_dump() {
	run decode --from-cpuid "$tmp/bad.cpuid"
	expect "decode refuses $1" 1 "" "bad\\.cpuid${2:+:$2}: .*$3"
}
{ printf '%s\n' "$sample" | head -3; echo "   0x00000002 0x00: eax=0x00000001 ebx=0x00000002 ecx=0x00000003"; } >"$tmp/bad.cpuid"
bad_dump "a line without edx, naming the line" 4 "edx"
{ printf '%s\n' "$sample" | head -2; echo "hello world"; } >"$tmp/bad.cpuid"
bad_dump "a line of text, naming the line" 3 "hello world"
{ printf '%s\n' "$sample" | head -2; echo "   0x00000002 0x00: eax=0x1 ebx=0x2 ecx=0x3 edx=0x4 esi=0x5"; } >"$tmp/bad.cpuid"
bad_dump "text after edx" 3 "after edx"
{ printf '%s\n' "$sample" | head -2; echo "   0x00000002 0x00: eax=0x100000000 ebx=0x2 ecx=0x3 edx=0x4"; } >"$tmp/bad.cpuid"
bad_dump "a value over 32 bits" 3 "eax"
{ printf '%s\n' "$sample" | head -2; echo "   0x00000002 0x00: eax=12 ebx=0x2 ecx=0x3 edx=0x4"; } >"$tmp/bad.cpuid"
bad_dump "a value without 0x" 3 "eax"
{ printf '%s\n' "$sample" | head -2; echo "   0x00000002: eax=0x1 ebx=0x2 ecx=0x3 edx=0x4"; } >"$tmp/bad.cpuid"
bad_dump "a line without sub-leaf" 3 "sub-leaf"
{ printf '%s\n' "$sample"; printf '%s\n' "$sample" | sed -n 3p; } >"$tmp/bad.cpuid"
bad_dump "a repeated leaf" 7 "repeats line 3"
: >"$tmp/bad.cpuid"
bad_dump "an empty file" "" "no CPUID register line"
printf '%s\n' "$sample" | sed 2d >"$tmp/bad.cpuid"
bad_dump "a dump without leaf 0" "" "no leaf 0x00000000"
run decode --from-cpuid "$tmp/does-not-exist.cpuid"
expect "decode: a missing file is an operational failure" 1 "" "does-not-exist"

# ---------------------------------------------------------------------------
# decode: the real dumps

# Intel sets SYSCALL (0x80000001 EDX bit 11) only when CPUID runs in 64-bit
# mode; with_syscall FILE prints the dump with that bit set.
with_syscall() {
	local line

	while IFS= read -r line; do
		if [[ $line =~ ^(\ *0x80000001\ 0x00:.*edx=)(0x[0-9a-fA-F]+)(.*)$ ]]; then
			printf '%s0x%08x%s\n' "${BASH_REMATCH[1]}" \
				$((BASH_REMATCH[2] | 0x800)) "${BASH_REMATCH[3]}"
		else
			printf '%s\n' "$line"
		fi
	done <"$1"
}

# Expected levels: "dump raw-level level-with-syscall".  raw is what the
# file says; the second column is for the 32-bit dumps once syscall is set.
# icx_04, sandybridgeep and piledriver lack leaf 0xD sub-leaf 1 (xsaveopt
# and friends), which caps icx_04 at x86-64-v2; see the 0xD.1 test below.
expected_levels='
alderlake_02      none      x86-64-v4
bergamo_04        x86-64-v4 x86-64-v4
broadwelle_01     x86-64-v3 x86-64-v3
cascadelakesp     none      x86-64-v4
genoa_01          x86-64-v4 x86-64-v4
graniterapids_03  none      x86-64-v4
gulftown          none      x86-64-v2
haswellep_00      x86-64-v3 x86-64-v3
icx_04            x86-64-v2 x86-64-v2
istanbul          min       min
milan_02          x86-64-v3 x86-64-v3
nehalem-ep        none      x86-64-v2
piledriver        x86-64-v2 x86-64-v2
rome              x86-64-v3 x86-64-v3
sandybridgeep     none      x86-64-v2
sapphirerapids_05 none      x86-64-v4
skylakexeon       x86-64-v4 x86-64-v4
turin_01          x86-64-v4 x86-64-v4
zen               x86-64-v3 x86-64-v3
'

# Features a dump must have (+name) or lack (-name).
expected_features='
nehalem-ep    +sse4_2 +popcnt +rdtscp +lahf_lm -avx -pcid -xsave
gulftown      +sse4_2 +aes +pclmulqdq -avx
sandybridgeep +avx +xsave +pcid -avx2 -f16c
haswellep_00  +avx2 +fma +movbe +bmi2 +abm +pdpe1gb -avx512f -smap
broadwelle_01 +adx +rdseed +smap -avx512f
skylakexeon   +avx512f +avx512bw +avx512vl +pku +xsaves +clwb
icx_04        +avx512_vbmi2 +avx512_vnni +gfni +vaes +la57 -xsaveopt
sapphirerapids_05 +amx_tile +amx_bf16 +avx512_fp16 +serialize +xfd
istanbul      +3dnow +3dnowext +sse4a +abm -ssse3 -sse4_1
piledriver    +xop +fma4 +fma +avx +tbm -avx2 -bmi2
zen           +sse4a +clzero +avx2 +smap -pcid -avx512f -pku
rome          +clwb +rdpid +wbnoinvd -pcid -avx512f
milan_02      +pcid +invpcid +pku +vaes -avx512f
genoa_01      +avx512f +avx512_bf16 +autoibrs +pku
turin_01      +avx512_vp2intersect +avx_vnni +avx512f
'

declare -A readme_vendor readme_sig
if [ -f "$cpuid_dir/README.md" ]; then
	while IFS='|' read -r _ file vendor sig _; do
		file=$(xargs <<<"$file")
		[[ $file == *.cpuid ]] || continue
		readme_vendor[$file]=$(xargs <<<"$vendor")
		readme_sig[$file]=$(xargs <<<"$sig")
	done <"$cpuid_dir/README.md"
fi

if ! compgen -G "$cpuid_dir/*.cpuid" >/dev/null; then
	skip "decode of the shared CPUID dumps" "no dumps in $cpuid_dir"
else
	no_syscall=""
	no_lm=""
	for f in "$cpuid_dir"/*.cpuid; do
		base=$(basename "$f" .cpuid)
		run decode --from-cpuid "$f"
		expect "decode $base: exits 0" 0 "^level: "
		[ "$rc" = 0 ] || continue
		feats=$(field features)
		level=$(field level)
		has_word "$feats" syscall || no_syscall+=" $base"
		has_word "$feats" lm || no_lm+=" $base"

		if [ -n "${readme_vendor[$base.cpuid]:-}" ]; then
			check "decode $base: vendor and signature as in README.md" \
				test "$(field vendor) $(field signature)" = \
				"${readme_vendor[$base.cpuid]} ${readme_sig[$base.cpuid]}"
		fi

		if has_word "$feats" lm && ! has_word "$feats" syscall; then
			check "decode $base: warns of a 32-bit dump (lm without syscall)" \
				grep -q "lm without syscall" <<<"$err"
		else
			check "decode $base: no 32-bit dump warning" \
				eval '! grep -q "lm without syscall" <<<"$err"'
		fi

		exp=$(awk -v b="$base" '$1 == b { print $2, $3 }' <<<"$expected_levels")
		if [ -z "$exp" ]; then
			note "decode $base: level $level (no expectation in test.sh)"
			continue
		fi
		check "decode $base: the dump reaches ${exp% *} (got $level)" \
			test "$level" = "${exp% *}"
		with_syscall "$f" >"$tmp/fixed.cpuid"
		run decode --from-cpuid "$tmp/fixed.cpuid"
		check "decode $base: with syscall set it reaches ${exp#* } (got $(field level))" \
			test "$(field level)" = "${exp#* }"

		read -ra wants <<<"$(awk -v b="$base" '$1 == b { $1 = ""; print }' <<<"$expected_features")"
		for want in "${wants[@]}"; do
			if [ "${want:0:1}" = + ]; then
				check "decode $base: has ${want:1}" has_word "$feats" "${want:1}"
			else
				check "decode $base: lacks ${want:1}" eval '! has_word "$feats" "${want:1}"'
			fi
		done
	done
	note "dumps without syscall (0x80000001 EDX bit 11):${no_syscall:- none}"
	note "dumps without lm (0x80000001 EDX bit 29):${no_lm:- none}"

	# The level table agrees with Ice Lake once the dump has the 0xD.1 leaf
	# every Ice Lake reports (xsaveopt, xsavec, xgetbv1, xsaves).
	if [ -f "$cpuid_dir/icx_04.cpuid" ]; then
		run decode --from-cpuid "$cpuid_dir/icx_04.cpuid"
		check "decode icx_04: warns that leaf 0xD sub-leaf 1 is missing" \
			grep -q "no leaf 0x0000000d sub-leaf 0x01" <<<"$err"
		{ cat "$cpuid_dir/icx_04.cpuid"
		  echo "   0x0000000d 0x01: eax=0x0000000f ebx=0x00000000 ecx=0x00000000 edx=0x00000000"
		} >"$tmp/icx.cpuid"
		run decode --from-cpuid "$tmp/icx.cpuid"
		expect "decode icx_04 with its 0xD.1 leaf reaches x86-64-v4" 0 "^level: x86-64-v4$"
	else
		skip "decode icx_04 with its 0xD.1 leaf" "no icx_04.cpuid"
	fi
fi

# ---------------------------------------------------------------------------
# identity, save-identity, check (offline: --host)


id=$tmp/id
mkdir -p "$id"
# Feature lists below are blank-separated words, split on purpose.
base="fpu pae cx8 cmov mmx fxsr sse sse2 syscall nx lm"

# The product brief's table, hosts A and B with X, Y, Z = sse4_2 popcnt aes.
# A VM in mode off sees all of its host: A -> B checks A's identity on B.
# table_row N A-FEATURES B-FEATURES A->B-LINE B->A-LINE
table_row() {
	local row=$1 want rc_ab=0 rc_ba=0
	# shellcheck disable=SC2086 # word lists
	mkid GenuineIntel off 46 $base $2 >"$id/A$row"
	# shellcheck disable=SC2086
	mkid GenuineIntel off 46 $base $3 >"$id/B$row"
	[[ $4 == incompatible* ]] && rc_ab=1
	[[ $5 == incompatible* ]] && rc_ba=1
	run check "$id/A$row" --host "$id/B$row"
	expect_out "check table row $row: A -> B: $4" "$rc_ab" "$4"
	run check "$id/B$row" --host "$id/A$row"
	expect_out "check table row $row: B -> A: $5" "$rc_ba" "$5"
}
table_row 1 "sse4_2 popcnt aes" "sse4_2 popcnt aes" "identical" "identical"
table_row 2 "sse4_2 popcnt aes" "sse4_2 popcnt" \
	"incompatible: missing aes" "compatible (this host has more: aes)"
table_row 3 "sse4_2 popcnt" "sse4_2 popcnt aes" \
	"compatible (this host has more: aes)" "incompatible: missing aes"
table_row 4 "sse4_2 popcnt" "popcnt aes" \
	"incompatible: missing sse4_2" "incompatible: missing aes"

run check --json "$id/A4" --host "$id/B4"
expect "check --json: exit status as without --json (1: incompatible)" 1
json_check "check --json: result, verdict line, missing and extra features" \
	'assert d["result"] == "incompatible" and d["missing"] == ["sse4_2"] and d["extra"] == ["aes"] and d["verdict"].startswith("incompatible: missing sse4_2"), d'
run check --json "$id/A1" --host "$id/B1"
json_check "check --json: identical" 'assert d["format"] == "pcm_kvm.check/1" and d["result"] == "identical" and d["missing"] == [] and d["limits_missing"] == {}, d'
run check - --host "$id/B2" <"$id/A2"
expect_out "check - reads the VM's identity from standard input" 1 \
	"incompatible: missing aes"
run check "$id/B2" --host - <"$id/A2"
expect_out "check --host - reads the host's identity from standard input" 0 \
	"compatible (this host has more: aes)"
run check --host "$id/A2" "$id/B2"
expect_out "check: --host before FILE" 0 "compatible (this host has more: aes)"

# several names, in table order
# shellcheck disable=SC2086
mkid GenuineIntel off 46 $base >"$id/base"
# shellcheck disable=SC2086
mkid GenuineIntel off 46 $base aes sse4_2 avx2 popcnt >"$id/more"
run check "$id/base" --host "$id/more"
expect_out "check: the extra names in table order" 0 \
	"compatible (this host has more: sse4_2 popcnt aes avx2)"
run check "$id/more" --host "$id/base"
expect_out "check: the missing names in table order" 1 \
	"incompatible: missing sse4_2 popcnt aes avx2"

# vendor
# shellcheck disable=SC2086
mkid AuthenticAMD off 46 $base >"$id/amd"
run check "$id/amd" --host "$id/base"
expect_out "check: another vendor" 1 \
	"incompatible: vendor AuthenticAMD on a GenuineIntel host"
run check "$id/amd" --host "$id/more"
expect_out "check: another vendor, even on a host with more" 1 \
	"incompatible: vendor AuthenticAMD on a GenuineIntel host"

# numbers: physical address bits
# shellcheck disable=SC2086
mkid GenuineIntel off 39 $base >"$id/phys39"
run check "$id/base" --host "$id/phys39"
expect_out "check: fewer physical address bits" 1 \
	"incompatible: missing phys_bits>=46"
run check "$id/phys39" --host "$id/base"
expect_out "check: more physical address bits" 0 \
	"compatible (this host has more: phys_bits 46)"

# bits that never refuse: KVM-provided (x2apic), scrub (md_clear)
# shellcheck disable=SC2086
mkid GenuineIntel off 46 $base x2apic md_clear >"$id/nonhw"
run check "$id/nonhw" --host "$id/base"
expect_out "check: KVM and scrub bits never refuse" 0 "identical"

# The mode narrows the destination (host features AND the mode's
# allow-list): a v2 VM sees no avx2 there, and needs sse4_2 there.
v2set="$base pni ssse3 cx16 sse4_1 sse4_2 popcnt lahf_lm"
# shellcheck disable=SC2086
mkid GenuineIntel x86-64-v2 46 $v2set >"$id/v2vm"
# shellcheck disable=SC2086
mkid GenuineIntel off 46 $v2set aes avx2 bmi2 >"$id/v3host"
# shellcheck disable=SC2086
mkid GenuineIntel off 46 ${v2set/sse4_2/} aes avx2 >"$id/nosse42"
run check "$id/v2vm" --host "$id/v3host"
expect_out "check: a v2 VM on a host with more: identical in its mode" 0 "identical"
sed 's/^mode: .*/mode: off/' "$id/v2vm" >"$id/offvm"
run check "$id/offvm" --host "$id/v3host"
expect_out "check: the same VM in mode off sees the host's extras" 0 \
	"compatible (this host has more: aes avx2 bmi2)"
run check "$id/v2vm" --host "$id/nosse42"
expect_out "check: a v2 VM on a host without sse4_2" 1 "incompatible: missing sse4_2"
# shellcheck disable=SC2086
mkid GenuineIntel min 46 $base >"$id/minvm"
run check "$id/minvm" --host "$id/nosse42"
expect_out "check: a min VM on a host without sse4_2: identical in its mode" 0 "identical"
sed 's/^mode: .*/mode: min/' "$id/v2vm" >"$id/minvm"
run check "$id/minvm" --host "$id/v3host"
expect_out "check: a VM that sees more than its mode allows is refused for it" 1 \
	"incompatible: missing pni ssse3 cx16 sse4_1 sse4_2 popcnt lahf_lm"
check "check: the host file's mode line is ignored" eval '
	sed "s/^mode: .*/mode: x86-64-v2/" "$id/v3host" >"$id/v3host-v2" &&
	run check "$id/offvm" --host "$id/v3host-v2" &&
	[ "$out" = "compatible (this host has more: aes avx2 bmi2)" ]'

# mode baseline: the destination's baseline from --baseline or sysfs
sed 's/^mode: .*/mode: baseline/' "$id/v2vm" >"$id/blvm"
run check "$id/blvm" --host "$id/v3host" --baseline "$v2set"
expect_out "check: a baseline VM with --baseline" 0 "identical"
run check "$id/blvm" --host "$id/v3host" --baseline "${v2set/popcnt/}"
expect_out "check: a baseline VM, the destination's baseline lacks popcnt" 1 \
	"incompatible: missing popcnt"
mkdir -p "$tmp/blsys"
echo "$v2set aes" >"$tmp/blsys/baseline"
PCMCTL_SYSFS=$tmp/blsys run check "$id/blvm" --host "$id/v3host"
expect_out "check: a baseline VM, baseline from PCMCTL_SYSFS/baseline" 0 \
	"compatible (this host has more: aes)"
PCMCTL_SYSFS=$tmp/nothing-here run check "$id/blvm" --host "$id/v3host"
expect "check: a baseline VM without a baseline: says how to give one" 1 "^$" "--baseline"
run check "$id/blvm" --host "$id/v3host" --baseline "sse9"
expect "check: an unknown feature in --baseline: usage error" 2 "" "sse9"

# command line
run check
expect "check without FILE: usage error" 2
run check "$id/A1" "$id/B1" --host "$id/B1"
expect "check with two FILEs: usage error" 2
run check "$id/A1" --host
expect "check --host without a file: usage error" 2 "" "--host"
run check "$id/A1" --frobnicate
expect "check with an unknown option: usage error naming it" 2 "" "frobnicate"
run check - --host - </dev/null
expect "check: FILE and --host both standard input: usage error" 2
run check "$id/A1" --baseline fpu
expect "check --baseline without --host: usage error" 2
run check "$id/does-not-exist" --host "$id/A1"
expect "check: a missing FILE names it" 1 "^$" "does-not-exist"
run check "$id/A1" --host "$id/no-host-file"
expect "check: a missing host file names it" 1 "^$" "no-host-file"

# bad identity files: exit 1, nothing on stdout, the file, line and token named
# bad_id DESC STDERR-REGEX: $id/bad is refused as FILE and as --host
bad_id() {
	run check "$id/bad" --host "$id/A1"
	expect "check refuses $1" 1 "^$" "$2"
	run check "$id/A1" --host "$id/bad"
	expect "check refuses $1 as the host file" 1 "^$" "$2"
}
sed '2a flavour: vanilla' "$id/A1" >"$id/bad"
bad_id "an unknown key" "bad:3: unknown key 'flavour'"
sed '3a vendor: GenuineIntel' "$id/A1" >"$id/bad"
bad_id "a repeated key" "bad:4: 'vendor' repeats line 2"
sed '/^phys_bits:/d' "$id/A1" >"$id/bad"
bad_id "a missing key" "bad: incomplete identity.*phys_bits"
head -n 7 "$id/A1" >"$id/bad"
bad_id "a copy cut after a line" "bad: incomplete identity.*: no line for features, words$"
# cut_at FILE STRING N: FILE up to N bytes into the first STRING in it
cut_at() {
	local off

	off=$(grep -bo -- "$2" "$1" | head -n1 | cut -d: -f1)
	head -c $((off + $3)) "$1"
}
cut_at "$id/A1" "fxsr" 3 >"$id/bad"
bad_id "a copy cut inside a name" "bad:8: unknown feature 'fxs'"
cut_at "$id/A1" "8000_0001_EDX=0x" 19 >"$id/bad"
bad_id "a copy cut inside the raw words" \
	"bad:8: the features line disagrees with the raw words \\(named, not in words: syscall nx lm;"
sed 's/^phys_bits: .*/phys_bits: 4x6/' "$id/A1" >"$id/bad"
bad_id "a bad number" "bad:6: .*'phys_bits: 4x6'"
sed 's/^max_ext_leaf: .*/max_ext_leaf: 0x100000000/' "$id/A1" >"$id/bad"
bad_id "a number over 32 bits" "bad:5: .*'max_ext_leaf: 0x100000000'"
sed 's/ 1_EDX=/ 1_EDX=0x1 9_EAX=/' "$id/A1" >"$id/bad"
bad_id "an unknown raw word" "bad:9: bad raw word '9_EAX=0x"
sed 's/ 1_EDX=0x\([0-9a-f]*\)/ 1_EDX=0x\1z/' "$id/A1" >"$id/bad"
bad_id "a bad raw word value" "bad:9: bad raw word '1_EDX=0x[0-9a-f]{8}z'"
sed 's/^features: /features: sse9 /' "$id/A1" >"$id/bad"
bad_id "an unknown feature name" "bad:8: unknown feature 'sse9'"
sed 's/ aes$//' "$id/A1" >"$id/bad"
bad_id "names that disagree with the words" \
	"bad:8: the features line disagrees with the raw words \\(named, not in words: none; in words, not named: aes\\)"
sed 's/^features: /features: avx2 /' "$id/A1" >"$id/bad"
bad_id "a name the words lack" "named, not in words: avx2; in words, not named: none"
sed 's/^vendor: .*/vendor: GenuineIntelX/' "$id/A1" >"$id/bad"
bad_id "an overlong vendor" "bad:2: bad vendor \\(at most 12 characters\\)"
sed 's/^pcm_kvm_identity: 1/pcm_kvm_identity: 3/' "$id/A1" >"$id/bad"
bad_id "another version" "bad:1: unknown version"
sed 's/^mode: .*/mode: x86-64-v9/' "$id/A1" >"$id/bad"
bad_id "an unknown mode" "bad:3: bad mode \\(modes: off, min, x86-64-v2"
sed '4a this is not a key value line' "$id/A1" >"$id/bad"
bad_id "a line without a key" "bad:5: not a 'key: value' line"
: >"$id/bad"
bad_id "an empty file" "bad: empty"
printf '\x7fELF\x02\x01\x01\xff\xfe:\x80\n\x90\x90\n' >"$id/bad"
bad_id "binary junk" "bad:1: unknown key '\\\\x7fELF\\\\x02"
{ head -c 40 "$id/A1"; printf '\0\0\0'; tail -c +44 "$id/A1"; } >"$id/bad"
bad_id "a NUL byte" "bad:2: NUL byte"
sed 's/$/\r/' "$id/A1" >"$id/crlf"
run check "$id/crlf" --host "$id/B1"
expect_out "check: CRLF line ends are fine" 0 "identical"

# identity and save-identity, on a sysfs tree made here
sys=$tmp/idsys
mkdir -p "$sys/vms/77-12"
cp "$id/A2" "$sys/vms/77-12/identity"
PCMCTL_SYSFS=$sys run identity 77-12
expect_out "identity PID-FD: prints vms/PID-FD/identity" 0 "$(cat "$id/A2")"
PCMCTL_SYSFS=$sys run save-identity 77-12
expect_out "save-identity PID-FD: the same text" 0 "$(cat "$id/A2")"
PCMCTL_SYSFS=$sys "$PCMCTL" save-identity 77-12 >"$id/saved" 2>/dev/null
run check "$id/saved" --host "$id/B2"
expect_out "save-identity output is what check reads" 1 "incompatible: missing aes"
run check "$id/saved" --host "$id/saved"
expect_out "check: an identity on its own host is identical" 0 "identical"
sed 's/ aes$//' "$id/A2" >"$sys/vms/77-12/identity"
PCMCTL_SYSFS=$sys run identity 77-12
expect "identity prints what the kernel says, unchecked" 0 "^features: .* popcnt$"
PCMCTL_SYSFS=$sys run save-identity 77-12
expect "save-identity refuses an identity that does not parse, writing nothing" 1 "^$" \
	"vms/77-12/identity:8: the features line disagrees"
PCMCTL_SYSFS=$sys run identity 77-13
expect "identity of an unknown VM: operational failure naming it" 1 "^$" "77-13"
PCMCTL_SYSFS=$sys run save-identity 77-13
expect "save-identity of an unknown VM: operational failure" 1 "^$" "77-13"
run identity 77x12
expect "identity with a malformed PID-FD: usage error" 2 "" "77x12"
run save-identity
expect "save-identity without PID-FD: usage error" 2
run host --frobnicate
expect "host with an unknown option: usage error" 2

run run
expect "run without anything: usage error naming the missing command" 2 "^$" "no command to run"
run run -- true
expect "run without --mode or --expect: usage error" 2 "^$" "--mode or --expect is needed"
run run --mode x86-64-v9 -- true
expect "run --mode x86-64-v9: usage error naming it" 2 "^$" "unknown mode 'x86-64-v9'"
run run --mode min --frobnicate true
expect "run with an unknown option: usage error naming it" 2 "^$" "unknown option '--frobnicate'"
run run --mode min --mode off -- true
expect "run --mode twice: usage error" 2 "^$" "--mode given twice"
run run --mode
expect "run --mode without a value: usage error" 2 "^$" "--mode needs a value"
run run --mode min
expect "run --mode min without a command: usage error" 2 "^$" "no command to run"
run run --help
expect "run --help: the usage, exit 0" 0 "^usage: pcmctl run "
run run --expect "$tmp/no-such-identity" -- true
expect "run --expect of a missing file: operational failure naming it" 1 "^$" \
	"no-such-identity: No such file"
printf 'pcm_kvm_identity: 2\nmode: min\n' >"$tmp/cut.id"
run run --expect "$tmp/cut.id" -- true
expect "run --expect of a truncated identity: refused before the command runs" 1 "^$" \
	"cut.id: incomplete identity"

run process
expect "process without arguments: usage error" 2
run process abc min
expect "process with a pid that is not a number: usage error naming it" 2 "^$" "'abc' is not a pid"
run process 0 min
expect "process 0: usage error" 2 "^$" "'0' is not a pid"
run process 12 x86-64-v9
expect "process with an unknown mode: usage error naming it" 2 "^$" "unknown mode 'x86-64-v9'"
run process 12 min --frobnicate
expect "process with an unknown option: usage error naming it" 2 "^$" "unknown option '--frobnicate'"
run process 12 - --expect "$tmp/cut.id"
expect "process PID - with --expect: usage error" 2 "^$" "takes no --expect"
run process 12 min off
expect "process with two modes: usage error" 2 "^$" "unexpected argument 'off'"
run process --help
expect "process --help: the usage, exit 0" 0 "^usage: pcmctl process "

if [ ! -e /dev/pcm_kvm ]; then
	run check "$id/A1"
	expect "check without --host and without the module: operational failure" 1 "^$" \
		"/dev/pcm_kvm"
	run host --identity
	expect "host --identity without the module: operational failure" 1 "^$" "/dev/pcm_kvm"
	run run --mode min -- echo ran
	expect "run without the module: operational failure, the command does not run" 1 "^$" \
		"/dev/pcm_kvm"
else
	skip "check without the module" "/dev/pcm_kvm exists"
	skip "host --identity without the module" "/dev/pcm_kvm exists"
	skip "run without the module" "/dev/pcm_kvm exists"
fi

# ---------------------------------------------------------------------------
# host profiles (host --from-cpuid), baseline, apply

run host --from-cpuid
expect "host --from-cpuid without FILE: usage error" 2
run host --identity --json
expect "host --identity with --json: usage error" 2
run host --format yaml
expect "host --format yaml: usage error naming it" 2 "^$" "unknown format 'yaml'"
run host --format nfd --json
expect "host --format with --json: usage error" 2
run host --output "$tmp/x.features"
expect "host --output without --format: usage error" 2 "^$" "--output goes with --format"

# ---- host --format nfd / traits, for cluster schedulers -------------------------
# labels_ok FILE: NFD local feature file lines: comments, or NS/NAME=VALUE
# with Kubernetes' label rules (name and value at most 63 characters,
# alphanumeric at both ends, [-_.] inside)
labels_ok() {
	python3 - "$1" <<'PY'
import re, sys
name = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")
ns = "pcm-kvm.feature.node.kubernetes.io/"
bad = []
for line in open(sys.argv[1]):
    line = line.rstrip("\n")
    if line.startswith("#"):
        continue
    k, sep, v = line.partition("=")
    if not sep or not k.startswith(ns) or not name.match(k[len(ns):]) or not name.match(v):
        bad.append(line)
if bad:
    sys.exit("bad labels: %s" % bad[:5])
PY
}
if compgen -G "$cpuid_dir/*.cpuid" >/dev/null; then
	for f in alderlake_02 bergamo_04; do
		[ -f "$cpuid_dir/$f.cpuid" ] || continue
		prof=$("$PCMCTL" host --from-cpuid "$cpuid_dir/$f.cpuid" 2>/dev/null)
		want_feat=$(sed -n 's/^features: //p' <<<"$prof" | tr ' ' '\n' | sort)
		want_level=$(sed -n 's/^level: //p' <<<"$prof")
		run host --format nfd --from-cpuid "$cpuid_dir/$f.cpuid"
		printf '%s\n' "$out" >"$tmp/$f.features"
		check "$f: host --format nfd: valid Kubernetes labels in the pcm-kvm namespace" \
			labels_ok "$tmp/$f.features"
		check "$f: ... level=$want_level, one level.MODE=true per level reached" \
			eval 'grep -qx "pcm-kvm.feature.node.kubernetes.io/level=$want_level" "$tmp/$f.features" &&
			      [ "$(sed -n "s|^pcm-kvm.feature.node.kubernetes.io/level\.\(.*\)=true$|\1|p" "$tmp/$f.features" | tail -n1)" = "$want_level" ]'
		check "$f: ... cpu-NAME=true for exactly the profile's features" \
			eval '[ "$(sed -n "s|^pcm-kvm.feature.node.kubernetes.io/cpu-\(.*\)=true$|\1|p" "$tmp/$f.features" | sort)" = "$want_feat" ]'
		run host --format traits --from-cpuid "$cpuid_dir/$f.cpuid"
		traits=$(sed -n 's/^        - //p' <<<"$out")
		check "$f: host --format traits: Placement custom traits, one per feature and level" \
			eval '[ "$rc" = 0 ] && ! grep -qvE "^CUSTOM_[A-Z0-9_]{1,240}$" <<<"$traits" &&
			      [ "$(wc -l <<<"$traits")" = "$(($(wc -l <<<"$want_feat") + $(grep -c "level\." "$tmp/$f.features")))" ] &&
			      grep -qx CUSTOM_PCM_KVM_LEVEL_X86_64_V2 <<<"$traits" && grep -qx CUSTOM_PCM_KVM_CPU_SSE4_2 <<<"$traits"'
	done
	mkdir -p "$tmp/features.d"
	run host --format nfd --output "$tmp/features.d/pcm_kvm" --from-cpuid "$cpuid_dir/alderlake_02.cpuid"
	check "host --format nfd --output: the file, mode 0644, the same text, no temporary file left" \
		eval '[ "$rc" = 0 ] && [ -z "$out" ] && cmp -s "$tmp/features.d/pcm_kvm" "$tmp/alderlake_02.features" &&
		      [ "$(stat -c %a "$tmp/features.d/pcm_kvm")" = 644 ] && [ "$(ls "$tmp/features.d")" = pcm_kvm ]'
	run host --format nfd --output "$tmp/no-such-dir/pcm_kvm" --from-cpuid "$cpuid_dir/alderlake_02.cpuid"
	expect "host --format nfd --output into a missing directory: operational failure" 1 "^$" "no-such-dir"
else
	skip "host --format nfd and traits" "no dumps in $cpuid_dir"
fi

run baseline
expect "baseline without PROFILE: usage error" 2
run baseline --frobnicate
expect "baseline with an unknown option: usage error" 2
run apply
expect "apply without FILE: usage error" 2
if [ ! -e /dev/pcm_kvm ]; then
	run host --json
	expect "host --json without the module: operational failure" 1 "^$" "/dev/pcm_kvm"
else
	skip "host --json without the module" "/dev/pcm_kvm exists"
fi

# A profile written by hand: the documented format, read back.
prof=$tmp/profiles
mkdir -p "$prof"
min_list='fpu vme de pse tsc msr pae mce cx8 sep mtrr pge mca cmov pat pse36 clflush mmx fxsr sse sse2'
printf '%s\n' '# a hand-written profile' 'name: tiny' 'vendor: GenuineIntel' \
	'max_basic_leaf: 0xd' 'max_ext_leaf: 0x80000008' 'phys_bits: 39' \
	'xcr0: 0x7' "features: lm nx syscall $min_list" \
	>"$prof/tiny"
run baseline "$prof/tiny"
expect "baseline of one hand-written profile reaches min" 0 "^level: min$"
check "baseline of one host: its features are the baseline line" \
	eval '[ "$(field baseline)" = "$("$PCMCTL" parse "$min_list syscall nx lm")" ]'
check "baseline of one host: limits read back" \
	eval '[ "$(field phys_bits)" = 39 ] && [ "$(field xcr0)" = 0x7 ]'
printf '%s\n' 'vendor: GenuineIntel' 'features: fpu frobnicate' >"$prof/bad"
run baseline "$prof/bad"
expect "baseline of a profile with an unknown feature: names it and the line" 1 "^$" \
	"bad:2: unknown feature 'frobnicate'"
printf '%s\n' 'vendor: GenuineIntel' >"$prof/novendor"
run baseline "$prof/novendor"
expect "baseline of a file without features: not a host profile" 1 "^$" \
	"not a host profile"
printf '%s\n' 'vendor: GenuineIntel' 'phys_bits: lots' 'features: fpu' >"$prof/badnum"
run baseline "$prof/badnum"
expect "baseline of a profile with a bad number: names it" 1 "^$" "badnum:2: bad number 'lots'"

# profile NAME [DUMP]: the profile of a dump, into $prof/NAME; 1 if absent.
profile() {
	local dump=${2:-$cpuid_dir/$1.cpuid}

	[ -f "$dump" ] || return 1
	"$PCMCTL" host --from-cpuid "$dump" >"$prof/$1" 2>"$prof/$1.err"
}

intel_servers='nehalem-ep sandybridgeep haswellep_00 skylakexeon cascadelakesp icx_04 sapphirerapids_05 graniterapids_03'
amd_servers='zen rome milan_02 genoa_01 bergamo_04 turin_01'

have_dumps=1
for d in $intel_servers $amd_servers; do
	[ -f "$cpuid_dir/$d.cpuid" ] || have_dumps=
done
if [ -z "$have_dumps" ]; then
	for d in "host --from-cpuid" "baseline of Intel servers" "baseline of AMD servers" \
		"mixed-vendor baseline" "baseline --explain" "apply"; do
		skip "$d" "dumps missing in $cpuid_dir"
	done
else
	run host --from-cpuid "$cpuid_dir/haswellep_00.cpuid"
	expect "host --from-cpuid: a profile named after the file" 0 "^name: haswellep_00$"
	check "host --from-cpuid: vendor, family/model/stepping, no kernel or microcode" \
		eval '[ "$(field vendor)" = GenuineIntel ] && [ "$(field family)" = 0x6 ] &&
		      [ "$(field model)" = 0x3f ] && [ "$(field stepping)" = 0x2 ] &&
		      [ "$(field kernel)" = - ] && [ "$(field microcode)" = - ]'
	check "host --from-cpuid: limits" \
		eval '[ "$(field max_basic_leaf)" = 0xf ] && [ "$(field max_ext_leaf)" = 0x80000008 ] &&
		      [ "$(field phys_bits)" = 46 ] && [ "$(field xcr0)" = 0x7 ]'
	check "host --from-cpuid: features and nothing withheld" \
		eval 'has_word "$(field features)" avx2 && [ "$(field withheld)" = - ]'
	run host --from-cpuid "$cpuid_dir/haswellep_00.cpuid" --json
	expect "host --from-cpuid --json: one JSON object" 0 \
		'^\{"format": "pcm_kvm.profile/1", "name": "haswellep_00", "vendor": "GenuineIntel", .*"limits": \{"max_basic_leaf": 15, .*\}, .*"features": \[.*"avx2".*\], "withheld": \[\], "feature_msrs": "unknown"\}$'
	if command -v python3 >/dev/null; then
		check "host --from-cpuid --json parses as JSON" \
			eval 'python3 -c "import json,sys; json.load(sys.stdin)" <<<"$out"'
	else
		skip "host --from-cpuid --json parses as JSON" "no python3"
	fi
	run host --from-cpuid "$cpuid_dir/nehalem-ep.cpuid"
	expect "host --from-cpuid of a 32-bit Intel dump: syscall counted, said on stderr" 0 \
		"^features: .* syscall " "nehalem-ep.cpuid: lm without syscall .*syscall counted as present"

	for d in $intel_servers $amd_servers; do
		profile "$d"
	done
	# icx_04 with the 0xD.1 leaf every Ice Lake has (see decode above)
	{ cat "$cpuid_dir/icx_04.cpuid"
	  echo "   0x0000000d 0x01: eax=0x0000000f ebx=0x00000000 ecx=0x00000000 edx=0x00000000"
	} >"$tmp/icx_04.cpuid"
	profile icx_04 "$tmp/icx_04.cpuid"
	check "profile of icx_04 (with 0xD.1) reaches x86-64-v4" \
		grep -qx 'level: x86-64-v4' "$prof/icx_04"

	# Feature MSRs: a dump has none to give; a live profile has (here the
	# Skylake-SP and Ice Lake-SP profiles made live-like, Skylake affected
	# by GDS where Ice Lake is not).
	check "host --from-cpuid: feature_msrs unknown" \
		grep -qx 'feature_msrs: unknown' "$prof/skylakexeon"
	sed -e 's/^feature_msrs: .*/feature_msrs: known/' \
	    -e 's/^features: \(.*\)/features: \1 arch_capabilities arch_capabilities.mds_no/' \
	    "$prof/skylakexeon" >"$tmp/sky-live"
	sed -e 's/^feature_msrs: .*/feature_msrs: known/' -e 's/^name: .*/name: icx-live/' \
	    -e 's/^features: \(.*\)/features: \1 arch_capabilities arch_capabilities.mds_no arch_capabilities.gds_no/' \
	    "$prof/icx_04" >"$tmp/icx-live"
	run baseline --explain "$tmp/sky-live" "$tmp/icx-live"
	expect "baseline of two live profiles: feature_msrs known, mds_no in, gds_no out" 0 \
		"^feature_msrs: known$"
	check "... the not-affected bit both have is in the pool, the one Skylake lacks is not" \
		eval 'has_word "$(field baseline)" arch_capabilities.mds_no &&
		      ! has_word "$(field baseline)" arch_capabilities.gds_no'
	check "... --explain names skylakexeon as holding back arch_capabilities.gds_no" \
		eval 'grep -Eq "arch_capabilities.gds_no.*skylakexeon" <<<"$out"'
	run baseline "$tmp/sky-live" "$tmp/icx-live" "$prof/haswellep_00"
	expect "... with a host from a CPUID dump: feature_msrs unknown, naming it; no MSR bit" 0 \
		"^feature_msrs: unknown \(not read on: haswellep_00; from a CPUID dump or an older profile\)$"
	check "... and the pool has no arch_capabilities bit" \
		eval '! grep -q "^baseline: .*arch_capabilities\." <<<"$out"'
	run baseline "$tmp/sky-live" "$tmp/icx-live" --json
	check "baseline --json: feature_msrs and the hosts without" \
		eval 'python3 -c "import json,sys; d=json.load(sys.stdin); assert d[\"feature_msrs\"] == \"known\" and d[\"feature_msrs_unknown\"] == []" <<<"$out"'

	three="$prof/haswellep_00 $prof/skylakexeon $prof/icx_04"
	# shellcheck disable=SC2086
	run baseline $three
	expect "Haswell-EP + Skylake-SP + Ice Lake-SP reaches x86-64-v3" 0 "^level: x86-64-v3$"
	check "... but not x86-64-v4: avx512f missing" \
		eval 'has_word "$(field "missing for x86-64-v4")" avx512f &&
		      ! has_word "$(field baseline)" avx512f && has_word "$(field baseline)" avx2'
	check "... Skylake-SP gives up avx512f, Haswell-EP gives up no AVX-512" \
		eval 'has_word "$(field "gives up skylakexeon")" avx512f &&
		      ! has_word "$(field "gives up haswellep_00")" avx512f'
	check "... minimum of limits" \
		eval '[ "$(field phys_bits)" = 46 ] && [ "$(field xcr0)" = 0x7 ]'
	check "... SCRUB OR-ed, INV passed through, neither in the baseline line" \
		eval 'has_word "$(field scrub)" md_clear && has_word "$(field inverted)" zero_fcs_fds &&
		      ! has_word "$(field baseline)" md_clear && ! has_word "$(field baseline)" zero_fcs_fds'
	check "... the baseline line parses" eval '"$PCMCTL" parse "$(field baseline)" >/dev/null 2>&1'
	printf '%s\n' "$out" >"$tmp/pool3"

	# shellcheck disable=SC2086
	run baseline --explain $three
	expect "--explain names haswellep_00 as holding back avx512f" 0 \
		"^held back: avx512f by haswellep_00$"
	expect "--explain: retiring haswellep_00 gains avx512f and x86-64-v4" 0 \
		"^retire haswellep_00: gains .*avx512f.* \(level x86-64-v4\)$"
	# shellcheck disable=SC2086
	run baseline --explain --json $three
	expect "baseline --explain --json: held_back and retire_gains" 0 \
		'"held_back": \{.*"avx512f": \["haswellep_00"\].*"retire": \{"haswellep_00": \{"gains": \[.*"avx512f".*\], "level": "x86-64-v4"\}'

	pool3=$(sed -n 's/^baseline: //p' "$tmp/pool3")
	run baseline "$cpuid_dir/haswellep_00.cpuid" "$cpuid_dir/skylakexeon.cpuid" "$tmp/icx_04.cpuid"
	expect "baseline of raw dumps: the same pool as of their profiles" 0 "^baseline: $pool3\$"

	intel=()
	for d in $intel_servers; do intel+=("$prof/$d"); done
	run baseline "${intel[@]}"
	expect "pool of all Intel server dumps: x86-64-v2 (Nehalem-EP)" 0 "^level: x86-64-v2$"
	check "... has popcnt and sse4_2, lacks avx" \
		eval 'has_word "$(field baseline)" popcnt && has_word "$(field baseline)" sse4_2 &&
		      ! has_word "$(field baseline)" avx'
	amd=()
	for d in $amd_servers; do amd+=("$prof/$d"); done
	run baseline "${amd[@]}"
	expect "pool of all AMD server dumps reaches x86-64-v3" 0 "^level: x86-64-v3$"
	check "... lacks avx512f (Zen 1-3)" eval '! has_word "$(field baseline)" avx512f'
	check "... vendor AuthenticAMD" eval '[ "$(field vendor)" = AuthenticAMD ]'

	run baseline "$prof/zen" "$prof/rome" "$prof/skylakexeon" "$prof/milan_02"
	expect "mixed-vendor pool refused, naming the odd host out" 1 "^$" \
		"vendor mismatch.*odd hosts out: skylakexeon \(GenuineIntel\)$"
	run baseline "$prof/haswellep_00" "$prof/zen" "$prof/skylakexeon"
	expect "mixed-vendor pool: the minority vendor's host named" 1 "^$" \
		"odd hosts out: zen \(AuthenticAMD\)$"

	# apply, on a fake sysfs tree
	asys=$tmp/applysys
	mkdir -p "$asys"
	: >"$asys/baseline"
	PCMCTL_SYSFS=$asys run apply "$tmp/pool3"
	expect "apply writes the baseline line of a baseline output" 0 "^baseline: "
	check "... into PCMCTL_SYSFS/baseline" \
		eval '[ "$(<"$asys/baseline")" = "$(sed -n "s/^baseline: //p" "$tmp/pool3")" ]'
	echo "AVX2, sse2" >"$tmp/plain"
	PCMCTL_SYSFS=$asys run apply "$tmp/plain"
	expect "apply of a list below min: refused, naming what min lacks" 1 "^$" \
		"below min, lacks fpu .* lm: not a pool's baseline \(--force to install it\)$"
	check "... and writes nothing" eval '[ "$(<"$asys/baseline")" = "$(sed -n "s/^baseline: //p" "$tmp/pool3")" ]'
	PCMCTL_SYSFS=$asys run apply --force "$tmp/plain"
	expect "apply --force of a plain feature list: canonical names, warned" 0 \
		"^baseline: sse2 avx2$" "warning: below min"
	PCMCTL_SYSFS=$asys run apply --force --json "$tmp/plain"
	json_check "apply --json: the installed list" 'assert d == {"format": "pcm_kvm.apply/1", "baseline": ["sse2", "avx2"]}, d'
	run decode --from-cpuid "$cpuid_dir/haswellep_00.cpuid" --json
	json_check "decode --json: what the text says (vendor, brand, signature, level)" \
		'assert d["format"] == "pcm_kvm.decode/1" and d["vendor"] == "GenuineIntel" and d["brand"].startswith("Intel") and d["signature"] == 0x306f2 and d["level"] == "x86-64-v3" and "avx2" in d["features"], d'
	check "... written" eval '[ "$(<"$asys/baseline")" = "sse2 avx2" ]'
	sed -n 's/^features: //p' "$prof/haswellep_00" | sed 's/ avx2 / /; s/ bmi2 / /' \
		>"$asys/host_features"
	PCMCTL_SYSFS=$asys run apply "$tmp/pool3"
	expect "apply on a host lacking features: cannot join, names them" 1 "^$" \
		"this host cannot join the pool: missing avx2 bmi2$"
	check "... and writes nothing" eval '[ "$(<"$asys/baseline")" = "sse2 avx2" ]'
	echo "sse2 frobnicate" >"$tmp/badlist"
	PCMCTL_SYSFS=$asys run apply "$tmp/badlist"
	expect "apply of an unknown feature: names it" 1 "^$" "unknown feature 'frobnicate'"
	PCMCTL_SYSFS=$tmp/nowhere run apply --force "$tmp/plain"
	expect "apply without a baseline file: operational failure" 1 "^$" "nowhere/baseline"

	# join and leave: baseline --current POOL --add/--remove, --vms
	"$PCMCTL" baseline "$prof/haswellep_00" "$prof/skylakexeon" >"$tmp/hs.pool"
	run baseline --current "$tmp/hs.pool" --add "$prof/sandybridgeep"
	expect "--add: the new pool names the old hosts and the new one" 0 \
		"^hosts: haswellep_00 skylakexeon sandybridgeep$"
	check "--add: the new set is the old set AND the new host's (computed here)" \
		eval 'want=$(join_words "$(sed -n "s/^baseline: //p" "$tmp/hs.pool")" \
			"$(sed -n "s/^features: //p" "$prof/sandybridgeep")");
		      [ "$(sorted_words "$(field baseline)")" = "$(sorted_words "$want")" ]'
	check "--add: the change line and the lost features (avx2, bmi2 among them)" \
		eval '[ "$(field change)" = "+sandybridgeep (level x86-64-v3 -> x86-64-v2)" ] &&
		      has_word "$(field lost)" avx2 && has_word "$(field lost)" bmi2 &&
		      [ "$(field gained)" = - ]'
	"$PCMCTL" baseline --current "$tmp/hs.pool" --add "$prof/sandybridgeep" \
		>"$tmp/hss.pool" 2>/dev/null
	run baseline --current "$tmp/hss.pool" --remove sandybridgeep \
		"$prof/haswellep_00" "$prof/skylakexeon" "$prof/sandybridgeep"
	expect "--remove with every host's profile: back to the first pool" 0 \
		"^change: -sandybridgeep \(level x86-64-v2 -> x86-64-v3\)$"
	check "... the same baseline line as before the join" \
		eval '[ "$(field baseline)" = "$(sed -n "s/^baseline: //p" "$tmp/hs.pool")" ] &&
		      [ "$(field hosts)" = "haswellep_00 skylakexeon" ]'
	run baseline --current "$tmp/hss.pool" --remove sandybridgeep "$prof/haswellep_00"
	expect "--remove without the profiles of the hosts that stay: names them" 1 "^$" \
		"missing: skylakexeon$"
	run baseline --current "$tmp/hss.pool" --remove icx_04 "$prof/haswellep_00"
	expect "--remove of a host not in the pool: refused" 1 "^$" \
		"--remove icx_04: not a host of"
	run baseline --current "$tmp/hs.pool" --add "$prof/skylakexeon"
	expect "--add of a host already in the pool: refused" 1 "^$" \
		"--add skylakexeon: already a host of"
	run baseline --current "$tmp/hss.pool" --add "$prof/icx_04" "$prof/cascadelakesp"
	expect "a profile of a host not in the pool, without --add: refused, named" 1 "^$" \
		"cascadelakesp: not a host of .* \(a new host needs --add\)$"
	run baseline --explain --current "$tmp/hss.pool" --add "$prof/icx_04" "$prof/haswellep_00"
	expect "--add with the profile of one current host: each host named once" 0 \
		"^hosts: skylakexeon sandybridgeep haswellep_00 icx_04$"
	check "... retire names hosts, not the pool file (which stands for two)" \
		eval '[ "$(grep "^retire " <<<"$out" | cut -d: -f1 | tr "\n" " ")" = "retire haswellep_00 retire icx_04 " ]'
	run baseline --explain --current "$tmp/hs.pool" --add "$prof/sandybridgeep" "$prof/haswellep_00"
	check "... a pool file that stands for one host: retire names that host" \
		eval 'grep -q "^retire skylakexeon: gains " <<<"$out" && ! grep -q "current-pool" <<<"$out"'
	run baseline --add "$prof/sandybridgeep" "$prof/haswellep_00"
	expect "--add without --current: usage error" 2 "^$" "need --current"
	run baseline --current "$prof/haswellep_00" --add "$prof/sandybridgeep"
	expect "--current of a host profile: not a pool file" 1 "^$" "not a pool file"
	run baseline --current "$tmp/hs.pool" --add "$prof/zen"
	expect "--add of another vendor's host: refused, named" 1 "^$" \
		"odd hosts out: zen \(AuthenticAMD\)$"

	# Running VMs (pcmctl vms --json of each host): who could not move.
	# shellcheck disable=SC2086 # word lists
	mkid GenuineIntel baseline 46 $base pni ssse3 sse4_1 sse4_2 popcnt avx2 bmi2 \
		>"$tmp/vm-a"
	# shellcheck disable=SC2086
	mkid GenuineIntel x86-64-v2 46 $base pni ssse3 sse4_1 sse4_2 popcnt >"$tmp/vm-b"
	python3 -c '
import json, sys
vms = [{"id": "101-11", "pid": 101, "mode": "baseline", "identity": open(sys.argv[1]).read()},
       {"id": "102-11", "pid": 102, "mode": "x86-64-v2", "identity": open(sys.argv[2]).read()},
       {"id": "103-11", "pid": 103, "identity": None}]
json.dump(vms, open(sys.argv[3], "w"), indent=2)
' "$tmp/vm-a" "$tmp/vm-b" "$tmp/haswell.vms.json"
	run baseline --current "$tmp/hs.pool" --add "$prof/sandybridgeep" \
		--vms "$tmp/haswell.vms.json"
	expect "--vms: a baseline VM using avx2 cannot move to the joining host (exit 1)" 1 \
		"^blocked: haswell.vms.json:101-11 \(mode baseline\) cannot move to sandybridgeep: incompatible: missing avx2 bmi2$"
	check "... the x86-64-v2 VM can, and the VM without identity is not counted" \
		eval '! grep -q "102-11" <<<"$out" && grep -qx "vms: 2 checked, 1 move refused" <<<"$out"'
	run baseline --current "$tmp/hs.pool" --add "$prof/cascadelakesp" \
		--vms "$tmp/haswell.vms.json"
	expect "--vms: a joining host with every feature blocks nothing (exit 0)" 0 \
		"^vms: 2 checked, 0 moves refused$"
	run baseline --json --current "$tmp/hs.pool" --add "$prof/sandybridgeep" \
		--vms "$tmp/haswell.vms.json"
	check "--json: the change and the blocked VM, as JSON" \
		eval 'python3 -c "
import json, sys
d = json.loads(sys.argv[1])
assert d[\"hosts\"] == [\"haswellep_00\", \"skylakexeon\", \"sandybridgeep\"], d[\"hosts\"]
assert d[\"change\"][\"added\"] == [\"sandybridgeep\"] and \"avx2\" in d[\"change\"][\"lost\"]
assert d[\"vms_checked\"] == 2
assert [(b[\"vm\"], b[\"host\"], b[\"missing\"]) for b in d[\"blocked\"]] == \
    [(\"haswell.vms.json:101-11\", \"sandybridgeep\", [\"avx2\", \"bmi2\"])]
" "$out"'
	printf '[{"id": "1-1", "identity": "pcm_kvm_identity: 1\\nmode: warp\\n"}]' \
		>"$tmp/bad.vms.json"
	run baseline --current "$tmp/hs.pool" --add "$prof/sandybridgeep" --vms "$tmp/bad.vms.json"
	expect "--vms with an identity that does not parse: names the VM" 1 "" \
		"VM 1-1: its identity does not parse"
	printf '[{"id": "1-1", "identity": "x"' >"$tmp/cut.vms.json"
	run baseline --current "$tmp/hs.pool" --add "$prof/sandybridgeep" --vms "$tmp/cut.vms.json"
	expect "--vms with cut JSON: says where" 1 "" "not the JSON of .pcmctl vms --json.: .* at byte"
fi

tap_finish
