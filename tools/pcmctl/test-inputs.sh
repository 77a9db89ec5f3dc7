#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# tools/pcmctl/test-inputs.sh - what pcmctl reads: it refuses nonsense and
# names it, reads back everything it writes (text and JSON), handles CRLF
# and format versions one way, and says the same in text and JSON.  Each
# check is a defect an operator met (issue 15), so that it stays fixed.
#
# Needs the real dumps of ../shared/cpuid (PCMCTL_CPUID_DIR); without them
# every check that needs one fails.  Output is TAP; the last line is
# "inputs: N passed, N failed, N skipped".
#
# shellcheck disable=SC2016

set -u

TAP_NAME=inputs
# shellcheck source-path=SCRIPTDIR source=testlib.sh
. "$(dirname "${BASH_SOURCE[0]}")/testlib.sh"

for d in alderlake_02 haswellep_00 skylakexeon icx_04 zen; do
	if [ ! -r "$cpuid_dir/$d.cpuid" ]; then
		not_ok "the dump $d.cpuid is in $cpuid_dir"
		tap_finish
	fi
done

# json EXPR: a python expression over the document d (stdout) is true.
json() {
	/usr/bin/python3 -c 'import json, sys
d = json.loads(sys.argv[2])
assert eval(sys.argv[1]), d' "$1" "$out"
}

D=$cpuid_dir
P=$tmp/p
mkdir -p "$P"
for d in alderlake_02 haswellep_00 skylakexeon icx_04 zen; do
	"$PCMCTL" host --from-cpuid "$D/$d.cpuid" >"$P/$d" 2>/dev/null
	"$PCMCTL" host --from-cpuid "$D/$d.cpuid" --json >"$P/$d.json" 2>/dev/null
done

# ---------------------------------------------------------------------------
# Nonsense is refused, and named

head -n 20 "$D/haswellep_00.cpuid" >"$tmp/cut.cpuid"
run baseline "$tmp/cut.cpuid" "$D/skylakexeon.cpuid"
expect "a dump cut to 20 lines cannot join a pool: below min, no long-mode leaves" 1 "^$" \
	"cut \(.*cut.cpuid\): below min, lacks .*syscall nx lm and the long-mode leaves \(a truncated dump\?\): .*--force"
run baseline --force "$tmp/cut.cpuid" "$D/skylakexeon.cpuid"
expect "... with --force it joins, with a warning" 0 "^level: none$" "warning: cut .*kept \(--force\)"
"$PCMCTL" host --from-cpuid "$tmp/cut.cpuid" >"$tmp/cut.prof" 2>/dev/null
run baseline "$tmp/cut.prof"
expect "... and so does its profile" 1 "^$" "below min"
printf 'fpu sse\n' >"$tmp/l"
mkdir -p "$tmp/sys"
: >"$tmp/sys/baseline"
PCMCTL_SYSFS=$tmp/sys run apply "$tmp/l"
expect "apply of 'fpu sse': refused, below min" 1 "^$" "below min, lacks vme .*: not a pool's baseline"
check "... and nothing written" test ! -s "$tmp/sys/baseline"
run baseline "$P/skylakexeon" "$P/haswellep_00" "$P/skylakexeon"
expect "a host given twice: refused, naming it and both files" 1 "^$" \
	"host skylakexeon given twice \(.*/skylakexeon and .*/skylakexeon\)"
run baseline "$P/skylakexeon" "$D/skylakexeon.cpuid"
expect "... its profile and its dump: the same host twice" 1 "^$" "host skylakexeon given twice"
sed 's/^pcm_kvm_profile: 1$/pcm_kvm_profile: 7/' "$P/zen" >"$tmp/v7"
run baseline "$tmp/v7"
expect "pcm_kvm_profile: 7: an unknown version, refused" 1 "^$" \
	"v7:1: unknown version 7 of the profile text \(pcmctl reads version 1\)"
sed 's/^vendor: /vendour: /' "$P/zen" >"$tmp/typo"
run baseline "$tmp/typo"
expect "a misspelt key: refused, naming it and its line" 1 "^$" "typo:3: unknown key 'vendour' in a profile"
{ cat "$P/zen"; echo "phys_bits: 48"; } >"$tmp/twice"
run baseline "$tmp/twice"
expect "a key given twice: refused, naming both lines" 1 "^$" "'phys_bits' repeats line"

# ---------------------------------------------------------------------------
# CRLF and versions, one way for profiles, pools and identities

sed 's/$/\r/' "$P/zen" >"$tmp/zen.crlf"
run baseline "$tmp/zen.crlf"
expect "a profile with CRLF line ends reads as the LF one" 0 "^level: x86-64-v3$"
check "... the same pool" eval '[ "$out" = "$("$PCMCTL" baseline "$P/zen" | sed "s|$tmp/zen.crlf|$P/zen|")" ]'
"$PCMCTL" baseline "$P/zen" >"$tmp/zen.pool"
sed 's/$/\r/' "$tmp/zen.pool" >"$tmp/zen.pool.crlf"
printf 'pcm_kvm_identity: 2\nvendor: AuthenticAMD\nmode: off\nmax_basic_leaf: 0xd\nmax_ext_leaf: 0x80000008\nphys_bits: 48\nxcr0: 0x3\ntsc_khz: 0\ntsc_scaling: no\nfeatures: fpu\nwords: 1_EDX=0x00000001\n' >"$tmp/id"
sed 's/$/\r/' "$tmp/id" >"$tmp/id.crlf"
run check "$tmp/id.crlf" --host "$tmp/id"
expect "an identity with CRLF line ends reads as the LF one" 0 "^identical$"
sed 's/^pcm_kvm_identity: 2/pcm_kvm_identity: 7/' "$tmp/id" >"$tmp/id7"
run check "$tmp/id7" --host "$tmp/id"
expect "pcm_kvm_identity: 7: an unknown version, refused as a profile's" 1 "^$" \
	"id7:1: unknown version 7 of the identity text \(pcmctl reads versions 1 to 2\)"
run --version
expect "--version names the versions it reads" 0 "profile 1, pool 1, identity 1-2, JSON 1"

# ---------------------------------------------------------------------------
# What pcmctl writes, it reads

run baseline "$P/skylakexeon.json" "$P/icx_04.json"
expect "baseline reads the profiles host --json writes" 0 "^hosts: skylakexeon icx_04$"
check "... the same pool as from their text" \
	eval '[ "$(field baseline)" = "$("$PCMCTL" baseline "$P/skylakexeon" "$P/icx_04" | sed -n "s/^baseline: //p")" ]'
"$PCMCTL" baseline --json "$P/skylakexeon" "$P/icx_04" >"$tmp/si.pool.json"
"$PCMCTL" baseline "$P/skylakexeon" "$P/icx_04" >"$tmp/si.pool"
run baseline --current "$tmp/si.pool.json" --add "$P/haswellep_00"
expect "--current reads the pool baseline --json writes" 0 "^change: \+haswellep_00 "
run baseline --current "$tmp/si.pool" --add "$P/haswellep_00"
check "... the same change as from the text pool" eval '[ "$(field change)" = "$("$PCMCTL" baseline --current "$tmp/si.pool.json" --add "$P/haswellep_00" | sed -n "s/^change: //p")" ]'
PCMCTL_SYSFS=$tmp/sys run apply "$tmp/si.pool.json"
expect "apply reads the JSON pool" 0 "^baseline: "
check "... and writes its baseline, as of the text pool" \
	eval '[ "$(<"$tmp/sys/baseline")" = "$(sed -n "s/^baseline: //p" "$tmp/si.pool")" ]'
PCMCTL_SYSFS=$tmp/sys run apply "$tmp/zen.pool.crlf"
expect "apply reads a CRLF pool" 0 "^baseline: "
mkdir -p "$tmp/bsys"
sed -n 's/^baseline: //p' "$tmp/si.pool" >"$tmp/bsys/baseline"
run_in "$D/haswellep_00.cpuid" baseline - "$D/skylakexeon.cpuid"
expect "a dump on standard input is a dump (cpuid -1 -r | pcmctl baseline - x.cpuid)" 0 \
	"^hosts: stdin skylakexeon$"
run_in "$P/zen" diff - "$P/zen.json"
expect "diff: a profile's text and its JSON are the same host" 0 "^same$"
run_in "$D/zen.cpuid" decode -
expect "decode reads a dump on standard input" 0 "^vendor: AuthenticAMD$"

# check --baseline takes the pool file apply takes
printf 'pcm_kvm_identity: 2\nvendor: GenuineIntel\nmode: baseline\nmax_basic_leaf: 0xd\nmax_ext_leaf: 0x80000008\nphys_bits: 39\nxcr0: 0x3\ntsc_khz: 0\ntsc_scaling: no\nfeatures: fpu sse sse2\nwords: 1_EDX=0x06000001\n' >"$tmp/vm.base"
printf 'pcm_kvm_identity: 2\nvendor: GenuineIntel\nmode: off\nmax_basic_leaf: 0xd\nmax_ext_leaf: 0x80000008\nphys_bits: 46\nxcr0: 0x3\ntsc_khz: 0\ntsc_scaling: no\nfeatures: fpu sse sse2\nwords: 1_EDX=0x06000001\n' >"$tmp/host.id"
run check "$tmp/vm.base" --host "$tmp/host.id" --baseline "$tmp/si.pool"
expect "check --baseline POOL_FILE: the pool's baseline, as apply takes it" 0 "^(identical|compatible)"
run check "$tmp/vm.base" --host "$tmp/host.id" --baseline "$tmp/si.pool.json"
expect "... and the JSON pool" 0 "^(identical|compatible)"
: >"$tmp/empty-sys-baseline"
run check "$tmp/vm.base" --host "$tmp/host.id" --baseline "$tmp/empty-sys-baseline"
expect "an empty baseline file: an empty list" 1
run check "$tmp/vm.base" --host "$tmp/host.id" --baseline ""
expect "an empty baseline: says why fpu and friends go missing" 1 \
	"^incompatible: missing fpu sse sse2" "the baseline is empty \(no pool installed there\?\)"

# ---------------------------------------------------------------------------
# Dump profiles keep only what KVM can offer a guest, and say so

run host --from-cpuid "$D/alderlake_02.cpuid"
expect "host --from-cpuid: drops what KVM never offers, and says so" 0 "" \
	"alderlake_02.cpuid: not kept, as KVM never offers them to a guest: .*acpi .*tm2"
check "... acpi, tm, pbe, est, tm2, xtpr are not in its features" \
	eval 'f=" $(field features) "; for x in acpi tm pbe est tm2 xtpr ds_cpl; do [[ $f != *" $x "* ]] || exit 1; done'
check "... but decode shows the CPU has them" \
	eval 'f=" $("$PCMCTL" decode "$D/alderlake_02.cpuid" 2>/dev/null | sed -n "s/^features: //p") "; [[ $f == *" acpi "* && $f == *" tm2 "* ]]'
never=$("$PCMCTL" features | awk '$7 == "never" { print $1 }' | tr '\n' ' ')
run features --json
check "features --json: kvm_offers is false exactly for the text's never ($(wc -w <<<"$never"))" \
	json "sorted(f['name'] for f in d['features'] if not f['kvm_offers']) == sorted('$never'.split()) and 'acpi' in '$never' and 'avx2' not in '$never'"
run baseline "$D/skylakexeon.cpuid" "$D/icx_04.cpuid" "$D/haswellep_00.cpuid"
check "a pool of Intel dumps lists none of them (apply would fail on a real host)" \
	eval 'f=" $(field baseline) "; for x in acpi tm pbe est tm2 xtpr ds_cpl smx dca; do [[ $f != *" $x "* ]] || exit 1; done'

# ---------------------------------------------------------------------------
# Text and JSON say the same

run decode "$D/alderlake_02.cpuid"
lvl=$(field level) brand=$(field brand)
run decode --json "$D/alderlake_02.cpuid"
check "decode alderlake_02: the same level in text and JSON ($lvl)" json "d['level'] == '$lvl'"
check "... and the brand and the signature are in the JSON" \
	json "d['brand'] == '''$brand''' and d['signature'] == 0x90672"
sed -e 's/^phys_bits: .*/phys_bits: 36/' "$tmp/host.id" >"$tmp/host36.id"
run check --json "$tmp/host.id" --host "$tmp/host36.id"
expect "check --json, phys_bits: exit 1" 1
check "... the limit is named, with both values" \
	json "d['result'] == 'incompatible' and d['limits_missing'] == {'phys_bits': {'vm': 46, 'host': 36}}"
check "... and the verdict is the text's" json "d['verdict'] == 'incompatible: missing phys_bits>=46'"
sed 's/GenuineIntel/AuthenticAMD/' "$tmp/host.id" >"$tmp/amd.id"
run check --json "$tmp/host.id" --host "$tmp/amd.id"
check "check --json, vendor: incompatible, both vendors named" \
	json "d['result'] == 'incompatible' and d['vendor'] == {'vm': 'GenuineIntel', 'host': 'AuthenticAMD', 'same': False}"
run baseline --json "$P/haswellep_00" "$P/skylakexeon"
check "baseline --json keeps what the next level lacks (text: missing for x86-64-v4)" \
	json "d['next_level']['level'] == 'x86-64-v4' and 'avx512f' in d['next_level']['missing']"
# a VM whose process is named slé: UTF-8 in, UTF-8 out
mkdir -p "$tmp/vsys/vms"
cp /bin/sleep "$tmp/slé"
"$tmp/slé" 30 &
slp=$!
mkdir -p "$tmp/vsys/vms/$slp-9"
echo off >"$tmp/vsys/vms/$slp-9/mode"
PCMCTL_SYSFS=$tmp/vsys run vms --json
check "vms --json: a comm slé stays slé" json "d['vms'][0]['comm'] == 'slé'"
PCMCTL_SYSFS=$tmp/vsys run vms
check "... as in the text" eval 'grep -q " slé " <<<"$out"'
PCMCTL_SYSFS=$tmp/vsys run vms --pid "$slp"
expect "vms --pid PID: that process's VMs" 0 "^$slp-9 "
PCMCTL_SYSFS=$tmp/vsys run vms --pid 1
expect "vms --pid of a process without a VM: exit 1, says so" 1 "" "no VM of process 1"
kill "$slp" 2>/dev/null
wait "$slp" 2>/dev/null

# ---------------------------------------------------------------------------
# Help, options and exit codes

for c in apply parse baseline check decode diff; do
	run "$c" --help
	expect "$c --help: its help, exit 0 (not a file named --help)" 0 "^usage: pcmctl $c "
done
run baseline nosuch --bogus
expect "baseline nosuch --bogus: a usage error (2), before any file is read" 2 "^$" "unknown option '--bogus'"
run baseline --bogus nosuch
expect "baseline --bogus nosuch: the same" 2 "^$" "unknown option '--bogus'"
run check "$tmp/host.id" --host="$tmp/host.id"
expect "--host=FILE is --host FILE" 0 "^identical$"
run parse -- sse2 avx
expect "-- ends the options" 0 "^sse2 avx$"
run baseline --json --explain -- "$P/zen"
expect "... also for baseline" 0 '"format": "pcm_kvm.pool/1"'

# ---------------------------------------------------------------------------
# A fleet's profiles in one file: `for h in ...; do ssh $h pcmctl host; done`

cat "$P/skylakexeon" "$P/icx_04" "$P/haswellep_00" >"$tmp/fleet.txt"
run baseline "$tmp/fleet.txt"
expect "profiles one after the other in one file: a pool of three" 0 \
	"^hosts: skylakexeon icx_04 haswellep_00$"
check "... the pool of the three files" \
	eval '[ "$(field baseline)" = "$("$PCMCTL" baseline "$P/skylakexeon" "$P/icx_04" "$P/haswellep_00" | sed -n "s/^baseline: //p")" ]'
cat "$P/skylakexeon.json" "$P/icx_04.json" "$P/haswellep_00.json" >"$tmp/fleet.json"
run baseline "$tmp/fleet.json"
expect "... and their JSON documents, one after the other" 0 "^hosts: skylakexeon icx_04 haswellep_00$"
run_in "$tmp/fleet.txt" baseline -
expect "... on standard input" 0 "^hosts: skylakexeon icx_04 haswellep_00$"
n1=$(wc -l <"$P/skylakexeon")
sed 's/^phys_bits: .*/phys_bits: lots/' "$P/icx_04" | cat "$P/skylakexeon" - >"$tmp/fleet.bad"
bad=$(grep -n '^phys_bits: lots' "$tmp/fleet.bad" | cut -d: -f1)
run baseline "$tmp/fleet.bad"
expect "... a bad line in the second: named by its line in the file ($bad, after $n1)" 1 "^$" \
	"fleet.bad:$bad: bad number 'lots' for phys_bits"
cat "$P/zen" "$P/zen" >"$tmp/fleet.twice"
run baseline "$tmp/fleet.twice"
expect "... a host twice in it: refused" 1 "^$" "host zen given twice"
run baseline --current "$tmp/si.pool" --add "$tmp/fleet.txt"
expect "--add of a file of several hosts: each added, named" 1 "^$" "--add skylakexeon: already a host"

# A fleet file larger than what pcmctl reads at a time (256 KiB): 600 hosts,
# each also in a file of its own.
mkdir -p "$tmp/big"
awk -v dir="$tmp/big" '{ l[NR] = $0 } END {
	for (r = 0; r < 200; r++)
		for (i = 1; i <= NR; i++) {
			if (l[i] ~ /^pcm_kvm_profile:/) {
				if (f)
					close(f)
				f = sprintf("%s/h%03d", dir, ++k)
			}
			s = l[i]
			if (s ~ /^name: /)
				s = sprintf("name: h%03d", k)
			print s >f
			print s >(dir ".fleet")
		}
}' "$tmp/fleet.txt"
run baseline "$tmp"/big/h*
files=$out
run baseline "$tmp/big.fleet"
check "a fleet file of 600 hosts ($(wc -c <"$tmp/big.fleet") bytes, read in pieces): the pool of their 600 files" \
	eval '[ "$rc" = 0 ] && [ -n "$out" ] && [ "$out" = "$files" ] && grep -q "^hosts: 600 (h001 ... h600)$" <<<"$out"'
sed 's/$/\r/' "$tmp/big.fleet" >"$tmp/big.crlf"
run baseline "$tmp/big.crlf"
check "... with CRLF line ends: the same pool" eval '[ "$rc" = 0 ] && [ "$out" = "$files" ]'
out=$(cat "$tmp/big.fleet" | "$PCMCTL" baseline - 2>"$tmp/stderr")
rc=$? err=$(<"$tmp/stderr")
check "... through a pipe: the same pool" eval '[ "$rc" = 0 ] && [ "$out" = "$files" ]'
bad=$(grep -n '^phys_bits:' "$tmp/big.fleet" | sed -n '550s/:.*//p')
sed "${bad}s/.*/phys_bits: lots/" "$tmp/big.crlf" >"$tmp/big.bad"
run baseline "$tmp/big.bad"
expect "... a bad line in its 550th host, in CRLF: named by its line in the file ($bad)" 1 "^$" \
	"big.bad:$bad: bad number 'lots' for phys_bits"

# ---------------------------------------------------------------------------
# A long pool: the text summarises, the JSON lists

for i in $(seq -w 1 40); do
	sed "s/^name: .*/name: h$i/" "$P/skylakexeon" >"$tmp/h$i"
done
run baseline "$tmp"/h??
expect "41 hosts: hosts: 40 (h01 ... h40) in the text" 0 "^hosts: 40 \(h01 \.\.\. h40\)$"
check "... gives up summarised too (one line for the 40 that give up nothing)" \
	eval '[ "$(grep -c "^gives up" <<<"$out")" = 1 ] && grep -qx "gives up 40 hosts (h01 ... h40): -" <<<"$out"'
run baseline --json "$tmp"/h??
check "... the JSON lists all 40" json "len(d['hosts']) == 40 and d['host_count'] == 40"
"$PCMCTL" baseline "$tmp"/h?? >"$tmp/long.pool"
run baseline --current "$tmp/long.pool" --remove h07 "$tmp"/h??
expect "--current of a summarised text pool: refused, pointing at the JSON" 1 "^$" \
	"its 40 hosts are summarised in the text: give the pool's JSON"
"$PCMCTL" baseline --json "$tmp"/h?? >"$tmp/long.pool.json"
rm "$tmp/h07"
run baseline --current "$tmp/long.pool.json" --remove h07 "$tmp"/h??
expect "... the JSON pool works" 0 "^change: -h07 "

# A message is one line, whatever an argument holds (found by the fuzzer).
run parse $'--jsonx\nfoo'
expect "an unknown option with a newline: exit 2" 2 "^$" "^pcmctl parse: unknown option '--jsonx\\\\x0afoo'$"
run check "$tmp/id" --host "$tmp/id" --baseline $'sse\nnope'
check "... and a --baseline list with one: every line of stderr is pcmctl's" \
	eval '[ "$rc" = 2 ] && ! grep -qv -e "^pcmctl" -e "^usage: " -e "^   or: " -e "^Try " <<<"$err"'

# A value longer than its field is refused and named, not cut short.
long=$(printf 'k%.0s' $(seq 1 80))
sed "s/^kernel: .*/kernel: 6.12.0-$long/" "$P/skylakexeon" >"$tmp/longk"
run baseline "$tmp/longk"
expect "a profile's kernel of 87 bytes: refused, named" 1 "^$" \
	"longk:[0-9]+: kernel '6\.12\.0-kkk.*' is too long \(87 bytes; at most 71\)"
/usr/bin/python3 -c 'import json, sys
d = json.load(open(sys.argv[1])); d["vendor"] = "GenuineIntelGenuineIntel"
json.dump(d, open(sys.argv[2], "w"))' "$P/skylakexeon.json" "$tmp/longv.json"
run baseline "$tmp/longv.json"
expect "... a JSON profile's vendor of 24 bytes too" 1 "^$" \
	"longv.json: \"vendor\" 'GenuineIntelGenuineIntel' is too long \(24 bytes; at most 15\)"
"$PCMCTL" baseline "$P/skylakexeon" "$P/icx_04" | sed "s/^hosts: .*/hosts: skylakexeon h$long/" >"$tmp/longh.pool"
run baseline --current "$tmp/longh.pool" --add "$P/haswellep_00"
expect "... and a pool's host name of 81 bytes" 1 "^$" \
	"longh.pool:2: host name 'hkkk.*' is too long \(81 bytes; at most 64\)"
sed "s/^name: .*/name: h$(printf 'n%.0s' $(seq 1 63))/" "$P/skylakexeon" >"$tmp/name64"
run baseline "$tmp/name64"
expect "... a host name of 64 bytes (HOST_NAME_MAX) is read" 0 "^hosts: hn{63}$"

# Hosts that each withhold something else make a group each: the text shows
# the 16 largest groups and counts the others.  h01..h20 withhold one feature
# each (20 groups of one), h21..h40 nothing (one group of 20).
i=0
for f in aes rdrand rdseed adx smap clflushopt clwb movbe popcnt f16c fsgsbase erms \
	invpcid pku xsaveopt xsavec abm pcid pclmulqdq 3dnowprefetch; do
	i=$((i + 1))
	n=$(printf %02d "$i")
	sed -e "s/^name: .*/name: g$n/" -e "s/ $f / /" -e "s/^withheld: .*/withheld: $f/" \
		"$P/skylakexeon" >"$tmp/g$n"
done
for i in $(seq 21 40); do
	sed "s/^name: .*/name: g$i/" "$P/skylakexeon" >"$tmp/g$i"
done
run baseline "$tmp"/g??
expect "40 hosts in 21 groups: exit 0" 0 "^gives up 20 hosts \(g21 \.\.\. g40\): .* aes "
check "... 16 groups shown, the largest and then the first ones, and a line for the rest" \
	eval '[ "$(grep -c "^gives up" <<<"$out")" = 17 ] && grep -q "^gives up g15: " <<<"$out" &&
	      ! grep -q "^gives up g16: " <<<"$out" &&
	      [ "$(grep "^gives up" <<<"$out" | tail -n 1)" = "gives up 5 more hosts (5 groups): --json lists them" ]'
run baseline --json "$tmp"/g??
check "... the JSON lists the 21 groups" json "len(d['gives_up']) == 21"

# ---------------------------------------------------------------------------
# diff: what changed on a host

sed -e 's/^microcode: .*/microcode: 0x2006e05/' -e 's/^kernel: .*/kernel: 6.1.0-18-amd64/' \
	"$P/skylakexeon" >"$tmp/sky.before"
sed -e 's/^microcode: .*/microcode: 0x2007006/' -e 's/^kernel: .*/kernel: 6.12.0-1-amd64/' \
	-e 's/ avx512f / /' -e 's/^phys_bits: .*/phys_bits: 45/' "$P/skylakexeon" >"$tmp/sky.after"
run diff "$tmp/sky.before" "$tmp/sky.after"
expect "diff: a microcode update that took avx512f: exit 1" 1
check "... names the feature only the old profile has" eval 'grep -Eq "^only_a: .*avx512f" <<<"$out"'
check "... the limit, the microcode and the kernel, old -> new" \
	eval 'grep -qx "phys_bits: 46 -> 45" <<<"$out" && grep -qx "microcode: 0x2006e05 -> 0x2007006" <<<"$out" &&
	      grep -qx "kernel: 6.1.0-18-amd64 -> 6.12.0-1-amd64" <<<"$out" && [ "$(tail -n 1 <<<"$out")" = different ]'
run diff --json "$tmp/sky.before" "$tmp/sky.after"
check "diff --json: the same differences" \
	json "d['same'] is False and 'avx512f' in d['only_a'] and {'key': 'microcode', 'a': '0x2006e05', 'b': '0x2007006'} in d['differences']"
run diff "$P/skylakexeon" "$D/skylakexeon.cpuid"
expect "diff: a profile and the dump it was made from: same" 0 "^same$"
run diff "$tmp/host.id" "$tmp/host36.id"
expect "diff of two identities: phys_bits" 1 "^phys_bits: 46 -> 36$"
run diff "$P/zen" "$P/skylakexeon"
expect "diff of two vendors' hosts: the vendor first" 1 "^vendor: AuthenticAMD -> GenuineIntel$"
run diff "$P/zen"
expect "diff with one operand: usage error" 2 "^$" "missing argument|too few arguments"
run diff - -
expect "diff - -: usage error" 2 "^$" "cannot both be standard input"

tap_finish
