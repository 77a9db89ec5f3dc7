#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# tools/pcmctl/test-json.sh - every --json document of pcmctl against its
# JSON Schema (schema/KIND.json, "format": "pcm_kvm.KIND/1").
#
# Runs every command that prints JSON over realistic inputs: the real CPUID
# dumps in ../shared/cpuid (decode, host --from-cpuid), profiles made from
# them, pools (with and without --explain, --current with --add, --remove
# and --vms, a pool too long for the text), identities written here (check),
# a fake PCMCTL_SYSFS tree (vms, show, apply), and diff of each kind of
# operand; then validates every document with python3's jsonschema (Debian:
# python3-jsonschema, /usr/bin/python3).  Also checks:
#  - the schemas: valid draft 2020-12, strict (additionalProperties false,
#    "format" a const), every key described, the shared $defs the same in
#    every file, every kind exercised;
#  - the negative direction: a document with an extra key, without a
#    required key, with another "format" or a bad feature name is rejected;
#  - the text output says what the JSON says (profile, decode, pool, check,
#    diff);
#  - pcmctl.8: its JSON section is what gen-json-doc makes of the schemas,
#    and lists every key of every kind.
#
# The CPUID dumps are required: a missing dump directory (or dump) is a
# failure, not a skip, as for scripts/check.
#
# Output is TAP; the last line is "json: N passed, N failed, N skipped".
# Exit status: 0 when nothing failed, 1 otherwise.
#
# Environment:
#   PCMCTL             the binary to test (default: tools/pcmctl/pcmctl,
#                      built first)
#   PCMCTL_CPUID_DIR   the dump directory (default: ../shared/cpuid)
#
# shellcheck disable=SC2016

set -u

TAP_NAME=json
# shellcheck source-path=SCRIPTDIR source=testlib.sh
. "$(dirname "${BASH_SOURCE[0]}")/testlib.sh"
schemas=$here/schema
py=/usr/bin/python3

if ! "$py" -c 'import jsonschema; jsonschema.Draft202012Validator' 2>/dev/null; then
	not_ok "$py with the jsonschema module (Debian: python3-jsonschema, scripts/setup-deps)"
	tap_finish
fi

docs=$tmp/docs
mkdir -p "$docs"
: >"$tmp/index"
: >"$tmp/pairs"
ndoc=0

# run ARGS...: run pcmctl, leaving $out, $err and $rc.

# doc KIND RC DESC ARGS...: run pcmctl ARGS (with --json among them),
# standard input from $STDIN if set; it must exit RC and print one line of
# JSON, validated against schema/KIND.json later (pyresults docs).  Leaves
# $out, $err, $rc and $last (the document's file); 1 when it failed.
doc() {
	local kind=$1 want=$2 d=$3
	shift 3
	if [ -n "${STDIN:-}" ]; then
		run "$@" <"$STDIN"
	else
		run "$@"
	fi
	ndoc=$((ndoc + 1))
	last=$docs/$ndoc.$kind.json
	printf '%s\n' "$out" >"$last"
	if [ "$rc" != "$want" ]; then
		not_ok "$kind: $d: exit status $rc, expected $want" "stdout: $out" "stderr: $err"
	elif [ -z "$out" ] || [ "$(wc -l <"$last")" != 1 ]; then
		not_ok "$kind: $d: one line of JSON" "stdout: $out" "stderr: $err"
	else
		printf '%s\t%s\t%s\n' "$last" "$kind" "$d" >>"$tmp/index"
		return 0
	fi
	return 1
}

# pair KIND RC DESC ARGS...: doc KIND RC DESC ARGS, then the same command
# without --json: the same exit status, and its text is compared with the
# document (pyresults text).
pair() {
	local kind=$1 want=$2 d=$3 a args=() trc
	shift 3
	doc "$kind" "$want" "$d" "$@" || return 0
	for a in "$@"; do
		[ "$a" = --json ] || args+=("$a")
	done
	if [ -n "${STDIN:-}" ]; then
		"$PCMCTL" "${args[@]}" >"$last.txt" 2>/dev/null <"$STDIN"
	else
		"$PCMCTL" "${args[@]}" >"$last.txt" 2>/dev/null
	fi
	trc=$?
	if [ "$trc" = "$want" ]; then
		printf '%s\t%s\t%s\n' "$last" "$kind" "$d" >>"$tmp/pairs"
	else
		not_ok "$kind: $d: without --json: exit status $trc, expected $want"
	fi
}


# pyresults DESC-PREFIX PYTHON-MODE ARGS...: the validator's "ok<TAB>desc"
# and "not ok<TAB>desc<TAB>why" lines as TAP results.
pyresults() {
	local mode=$1 st d why
	shift
	"$py" "$tmp/validate.py" "$mode" "$@" >"$tmp/py.out" 2>"$tmp/py.err"
	local prc=$?
	while IFS=$'\t' read -r st d why; do
		if [ "$st" = ok ]; then
			ok "$d"
		else
			not_ok "$d" "$why"
		fi
	done <"$tmp/py.out"
	if [ "$prc" != 0 ]; then
		not_ok "validator $mode runs" "$(cat "$tmp/py.err")"
	fi
}

cat >"$tmp/validate.py" <<'EOF'
import copy, json, os, re, sys
import jsonschema

SCHEMAS = os.environ["SCHEMAS"]
V = jsonschema.Draft202012Validator


def schema(kind):
    with open(os.path.join(SCHEMAS, kind + ".json"), encoding="utf-8") as f:
        return json.load(f)


def say(good, desc, why=""):
    why = why.replace("\t", " ").replace("\n", " | ")
    print("ok\t%s" % desc if good else "not ok\t%s\t%s" % (desc, why))


def errors(kind, d):
    v = V(schema(kind))
    return ["%s: %s" % ("/".join(map(str, e.absolute_path)) or "(top)", e.message[:300])
            for e in v.iter_errors(d)]


def index(path):
    with open(path, encoding="utf-8") as f:
        return [l.rstrip("\n").split("\t") for l in f if l.strip()]


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def docs(path):
    seen = set()
    for file, kind, desc in index(path):
        try:
            d = load(file)
        except ValueError as e:
            say(False, "%s: %s: valid JSON" % (kind, desc), str(e))
            continue
        e = errors(kind, d)
        say(not e, "%s: %s: valid against schema/%s.json" % (kind, desc, kind), "; ".join(e[:5]))
        seen.add(kind)
    kinds = sorted(f[:-5] for f in os.listdir(SCHEMAS) if f.endswith(".json"))
    miss = [k for k in kinds if k not in seen]
    say(not miss, "every kind of schema/ (%d) has documents validated" % len(kinds),
        "none of: " + " ".join(miss))


def walk(s, path="#"):
    """every subschema, with its path"""
    yield path, s
    if isinstance(s, dict):
        for k, v in s.items():
            if k in ("enum", "const", "required", "dependentRequired", "if"):
                continue
            if isinstance(v, dict):
                yield from walk(v, path + "/" + k)
            elif isinstance(v, list):
                for i, x in enumerate(v):
                    if isinstance(x, dict):
                        yield from walk(x, "%s/%s/%d" % (path, k, i))


def schemas():
    kinds = sorted(f[:-5] for f in os.listdir(SCHEMAS) if f.endswith(".json"))
    shared = {}
    for kind in kinds:
        s = schema(kind)
        try:
            V.check_schema(s)
            e = ""
        except jsonschema.SchemaError as x:
            e = x.message
        say(not e and s.get("$schema") == "https://json-schema.org/draft/2020-12/schema",
            "schema/%s.json: a valid draft 2020-12 schema" % kind, e)
        fmt = s.get("properties", {}).get("format", {})
        say(fmt.get("const") == "pcm_kvm.%s/1" % kind and "format" in s.get("required", [])
            and s.get("type") == "object",
            'schema/%s.json: an object, "format" required, const "pcm_kvm.%s/1"' % (kind, kind))
        loose = [p for p, x in walk(s) if isinstance(x, dict) and
                 ("properties" in x or x.get("type") == "object") and
                 x.get("additionalProperties", True) is True]
        say(not loose, "schema/%s.json: every object has additionalProperties false or a schema" % kind,
            " ".join(loose))
        nodesc = [p + "/" + k for p, x in walk(s) if isinstance(x, dict)
                  for k, v in x.get("properties", {}).items() if not v.get("description")]
        say(not nodesc, "schema/%s.json: every key has a description" % kind, " ".join(nodesc))
        for name, d in s.get("$defs", {}).items():
            shared.setdefault(name, []).append((kind, json.dumps(d, sort_keys=True)))
    for name, uses in sorted(shared.items()):
        texts = set(t for _, t in uses)
        say(len(texts) == 1, "$defs/%s is the same in every schema that has it (%d)" % (name, len(uses)),
            "differs among " + " ".join(k for k, _ in uses))


def first_feature_list(d, path=()):
    """the path of the first non-empty list of feature names in d"""
    if isinstance(d, dict):
        for k, v in d.items():
            p = first_feature_list(v, path + (k,))
            if p:
                return p
    elif isinstance(d, list):
        if d and all(isinstance(x, str) and re.match(r"^[a-z0-9_.]+$", x) and "-" not in x for x in d):
            return path
        for i, v in enumerate(d):
            p = first_feature_list(v, path + (i,))
            if p:
                return p
    return None


def get(d, path):
    for p in path:
        d = d[p]
    return d


def negative(path):
    """mutations of the first document of each kind: each must be rejected"""
    firsts = {}
    for file, kind, desc in index(path):
        firsts.setdefault(kind, (file, desc))
    for kind, (file, desc) in sorted(firsts.items()):
        d = load(file)
        s = schema(kind)
        muts = []
        x = copy.deepcopy(d); x["surprise"] = 1
        muts.append(("an extra key", x))
        for key in s["required"]:
            if key == "format":
                continue
            x = copy.deepcopy(d); del x[key]
            muts.append(("no required key %s" % key, x))
        x = copy.deepcopy(d); x["format"] = "pcm_kvm.%s/2" % kind
        muts.append(('"format" pcm_kvm.%s/2' % kind, x))
        x = copy.deepcopy(d); x["format"] = "pcm_kvm.%s/1" % ("pool" if kind != "pool" else "profile")
        muts.append(('"format" of another kind', x))
        x = copy.deepcopy(d); del x["format"]
        muts.append(('without "format"', x))
        p = first_feature_list(d)
        if p and p[-1] not in ("hosts", "added", "removed", "feature_msrs_unknown"):
            x = copy.deepcopy(d); get(x, p).append("AVX-512")
            muts.append(("a bad feature name in %s" % "/".join(map(str, p)), x))
        if "limits" in d:
            x = copy.deepcopy(d); x["limits"]["cpus"] = 4
            muts.append(("an extra key in limits", x))
            x = copy.deepcopy(d); x["limits"]["xcr0"] = "0x7"
            muts.append(("a string for an integer (limits.xcr0)", x))
        for key in s["required"]:
            if key != "format" and d.get(key) is not None and "null" not in json.dumps(s["properties"][key]):
                x = copy.deepcopy(d); x[key] = None
                muts.append(("null for %s" % key, x))
                break
        for what, x in muts:
            say(bool(errors(kind, x)), "%s: the schema rejects a document with %s" % (kind, what),
                "accepted: " + json.dumps(x)[:200])


def words(v):
    return " ".join(str(x) for x in v)


def lines_of(d, kind):
    """the lines the text output must have, from the document"""
    L = []

    def limits(l):
        L.append("max_basic_leaf: 0x%x" % l["max_basic_leaf"])
        L.append("max_ext_leaf: 0x%x" % l["max_ext_leaf"])
        L.append("phys_bits: %d" % l["phys_bits"])
        L.append("xcr0: 0x%x" % l["xcr0"])

    def level(empty):
        L.append("level: " + d["level"])
        n = d["next_level"]
        if n is not None:
            L.append(("missing for %s: " % n["level"]) + (words(n["missing"]) or empty))

    if kind == "profile":
        for k in ("name", "vendor", "family", "model", "stepping", "kernel", "microcode", "module",
                  "feature_msrs"):
            L.append("%s: %s" % (k, d[k]))
        limits(d["limits"])
        L.append("tsc_khz: %s" % ("-" if d["tsc_khz"] is None else d["tsc_khz"]))
        L.append("tsc_scaling: %s" % {None: "-", True: "yes", False: "no"}[d["tsc_scaling"]])
        level("-")
        L.append("features: " + (words(d["features"]) or "-"))
        L.append("withheld: " + (words(d["withheld"]) or "-"))
    elif kind == "decode":
        L.append("file: " + d["file"])
        L.append("vendor: " + d["vendor"])
        if d["brand"]:
            L.append("brand: " + d["brand"])
        L.append("signature: 0x%08x" % d["signature"])
        for k in ("family", "model", "stepping"):
            L.append("%s: 0x%x (%d)" % (k, d[k], d[k]))
        limits(d["limits"])
        L.append("features: " + (words(d["features"]) or "(none)"))
        level("(none)")
    elif kind == "pool":
        h = d["hosts"]
        L.append("hosts: " + (words(h) if len(h) <= 32 else "%d (%s ... %s)" % (len(h), h[0], h[-1])))
        if d["host_count"] != len(h):
            L.append("(host_count %d is not the number of hosts %d)" % (d["host_count"], len(h)))
        L.append("vendor: " + d["vendor"])
        level("(none)")
        limits(d["limits"])
        L.append("scrub: " + (words(d["scrub"]) or "-"))
        L.append("inverted: " + (words(d["inverted"]) or "-"))
        if d["feature_msrs"] == "known":
            L.append("feature_msrs: known")
        groups = d["gives_up"]
        grouped = [x for g in groups for x in g["hosts"]]
        if sorted(grouped) != sorted(h):
            L.append("(gives_up groups %s, not the hosts)" % words(grouped))
        # a long pool: the 16 largest groups (the first of equal ones), in order
        top = sorted(range(len(groups)), key=lambda i: -len(groups[i]["hosts"]))[:16]
        for i, g in enumerate(groups):
            gh = g["hosts"]
            if len(h) <= 32:
                for x in gh:
                    L.append("gives up %s: %s" % (x, words(g["features"]) or "-"))
            elif i in top:
                L.append("gives up %s: %s" % (gh[0] if len(gh) == 1 else "%d hosts (%s ... %s)" % (
                    len(gh), gh[0], gh[-1]), words(g["features"]) or "-"))
        if len(h) > 32 and len(groups) > 16:
            L.append("gives up %d more hosts (%d groups): --json lists them" % (
                sum(len(groups[i]["hosts"]) for i in range(len(groups)) if i not in top),
                len(groups) - 16))
        for f, by in d.get("held_back", {}).items():
            L.append("held back: %s by %s" % (f, words(by)))
        for host, r in d.get("retire", {}).items():
            L.append("retire %s: gains %s (level %s)" % (host, words(r["gains"]) or "-", r["level"]))
        L.append(("baseline: " + words(d["baseline"])).rstrip())
        c = d.get("change")
        if c:
            L.append("change: %s (level %s -> %s)" % (
                " ".join(["+" + x for x in c["added"]] + ["-" + x for x in c["removed"]]),
                c["previous_level"], c["level"]))
            L.append("gained: " + (words(c["gained"]) or "-"))
            L.append("lost: " + (words(c["lost"]) or "-"))
        for b in d.get("blocked", []):
            L.append("blocked: %s (mode %s) cannot move to %s: %s" % (b["vm"], b["mode"], b["host"], b["verdict"]))
        if d.get("vms_listed"):
            n = len(d["blocked"])
            L.append("vms: %d checked, %d move%s refused" % (d["vms_checked"], n, "" if n == 1 else "s"))
    elif kind == "check":
        L.append(d["verdict"])
        want = {"identical": "identical", "compatible": "compatible (",
                "incompatible": "incompatible: "}[d["result"]]
        if not d["verdict"].startswith(want):
            L.append("(result %s, verdict %s)" % (d["result"], d["verdict"]))
        if d["result"] == "incompatible" and not (d["missing"] or d["limits_missing"]
                                                  or not d["vendor"]["same"]):
            L.append("(incompatible without a reason in missing, limits_missing or vendor)")
    elif kind == "diff":
        for side in ("a", "b"):
            s = d[side]
            L.append("%s: %s (%s %s)" % (side, s["name"], s["kind"], s["file"]))
        if d["only_a"]:
            L.append("only_a: " + words(d["only_a"]))
        if d["only_b"]:
            L.append("only_b: " + words(d["only_b"]))
        for x in d["differences"]:
            L.append("%s: %s -> %s" % (x["key"], x["a"], x["b"]))
        L.append("same" if d["same"] else "different")
        if d["same"] != (not d["differences"] and not d["only_a"] and not d["only_b"]):
            L.append("(same is %s with differences)" % d["same"])
    return L


def text(path):
    for file, kind, desc in index(path):
        d = load(file)
        with open(file + ".txt", encoding="utf-8") as f:
            t = f.read().split("\n")
        miss = [l for l in lines_of(d, kind) if l not in t]
        say(not miss, "%s: %s: the text says what the JSON says" % (kind, desc),
            "not in the text: " + " / ".join(miss[:4]))


def man(page_path, keys_path):
    with open(page_path, encoding="utf-8") as f:
        page = f.read().split("\n")
    want = {}
    with open(keys_path, encoding="utf-8") as f:
        for l in f:
            kind, key = l.split()
            want.setdefault(kind, []).append(key)
    try:
        start = page.index("JSON")
        end = page.index("FILES", start)
    except ValueError:
        say(False, "pcmctl.8 has a JSON section before FILES")
        return
    sect = page[start:end]
    heads = [i for i, l in enumerate(sect) if re.match(r"^   pcm_kvm\.[a-z]+/1$", l)]
    for kind in sorted(want):
        h = [i for i in heads if sect[i].strip() == "pcm_kvm.%s/1" % kind]
        if len(h) != 1:
            say(False, "pcmctl.8 JSON: a subsection pcm_kvm.%s/1" % kind)
            continue
        nxt = [i for i in heads if i > h[0]]
        body = sect[h[0]:nxt[0] if nxt else len(sect)]
        miss = [k for k in want[kind]
                if not any(re.match(r"^ +%s( |$)" % re.escape(k), l) for l in body)]
        say(not miss, "pcmctl.8 JSON: pcm_kvm.%s/1 documents its %d keys" % (kind, len(want[kind])),
            "missing: " + " ".join(miss))


mode = sys.argv[1]
{"docs": docs, "schemas": schemas, "negative": negative, "text": text,
 "man": man}[mode](*sys.argv[2:])
EOF
export SCHEMAS=$schemas

# ---------------------------------------------------------------------------
# The feature model alone

doc modes 0 "modes --json" modes --json
doc features 0 "features --json" features --json
doc parse 0 "parse --json of a closed list" parse --json xsave avx sse2 fxsr sse
doc parse 0 "parse --json of aliases, commas, an unclosed list" parse --json "sse4.2,AVX lzcnt" pni avx2 avx512vl
doc parse 0 "parse --json of MSR features" parse --json arch_capabilities.mds_no arch_capabilities
doc parse 0 "parse LIST --json: option after the operand" parse sse2 --json

# ---------------------------------------------------------------------------
# The CPUID dumps: decode, host --from-cpuid, profiles

intel_servers='nehalem-ep sandybridgeep haswellep_00 skylakexeon cascadelakesp icx_04 sapphirerapids_05 graniterapids_03'
amd_servers='zen rome milan_02 genoa_01 bergamo_04 turin_01'

have_dumps=1
if [ ! -d "$cpuid_dir" ]; then
	have_dumps=
	not_ok "the CPUID dumps: no directory $cpuid_dir (set PCMCTL_CPUID_DIR)"
else
	missing=
	for d in $intel_servers $amd_servers; do
		[ -f "$cpuid_dir/$d.cpuid" ] || missing="$missing $d"
	done
	if [ -n "$missing" ]; then
		have_dumps=
		not_ok "the CPUID dumps of $cpuid_dir: the server dumps" "missing:$missing"
	else
		ok "the CPUID dumps of $cpuid_dir: the server dumps"
	fi
fi

prof=$tmp/prof
mkdir -p "$prof"
if [ -n "$have_dumps" ]; then
	for f in "$cpuid_dir"/*.cpuid; do
		b=$(basename "$f" .cpuid)
		pair decode 0 "decode --json $b" decode --json "$f"
		pair profile 0 "host --from-cpuid $b --json" host --from-cpuid "$f" --json
		"$PCMCTL" host --from-cpuid "$f" >"$prof/$b" 2>/dev/null
		cp "$last" "$prof/$b.json"
	done
	STDIN=$cpuid_dir/zen.cpuid doc decode 0 "decode --json - (standard input)" decode --json -
	doc decode 0 "decode --from-cpuid FILE --json" decode --from-cpuid "$cpuid_dir/rome.cpuid" --json
	# a dump cut after the basic leaves: few features, level none
	grep -v ' 0x8000' "$cpuid_dir/haswellep_00.cpuid" >"$tmp/cut.cpuid"
	pair decode 0 "decode --json of a dump without extended leaves" decode --json "$tmp/cut.cpuid"
	pair profile 0 "host --from-cpuid --json of that dump" host --from-cpuid "$tmp/cut.cpuid" --json
fi
if [ -e /dev/pcm_kvm ]; then
	pair profile 0 "host --json (live)" host --json
	"$PCMCTL" host >"$prof/live" 2>/dev/null
else
	note "host --json (live): no /dev/pcm_kvm here; scripts/test-pool-live validates it on a test kernel"
fi

# ---------------------------------------------------------------------------
# Pools

if [ -n "$have_dumps" ]; then
	intel=() amd=()
	for d in $intel_servers; do intel+=("$prof/$d"); done
	for d in $amd_servers; do amd+=("$prof/$d"); done
	three=("$prof/haswellep_00" "$prof/skylakexeon" "$prof/icx_04")
	pair pool 0 "baseline --json of one host" baseline --json "$prof/zen"
	pair pool 0 "baseline --explain --json of one host" baseline --explain --json "$prof/zen"
	pair pool 0 "baseline --json of three Intel servers" baseline --json "${three[@]}"
	pair pool 0 "baseline --explain --json of three Intel servers" baseline --explain --json "${three[@]}"
	pair pool 0 "baseline --json of the Intel servers" baseline --json "${intel[@]}"
	pair pool 0 "baseline --explain --json of the AMD servers" baseline --explain --json "${amd[@]}"
	pair pool 0 "baseline --json of JSON profiles" baseline --json "$prof/rome.json" "$prof/genoa_01.json"
	pair pool 0 "baseline --json of raw dumps" baseline --json "$cpuid_dir/milan_02.cpuid" "$cpuid_dir/turin_01.cpuid"
	pair pool 0 "baseline --explain --json of the old desktops (gulftown, nehalem-ep)" \
		baseline --explain --json "$prof/gulftown" "$prof/nehalem-ep"
	# live-like profiles: feature MSRs known (as test.sh makes them)
	sed -e 's/^feature_msrs: .*/feature_msrs: known/' -e 's/^name: .*/name: sky-live/' \
	    -e 's/^features: \(.*\)/features: \1 arch_capabilities arch_capabilities.mds_no/' \
	    "$prof/skylakexeon" >"$prof/sky-live"
	sed -e 's/^feature_msrs: .*/feature_msrs: known/' -e 's/^name: .*/name: icx-live/' \
	    -e 's/^features: \(.*\)/features: \1 arch_capabilities arch_capabilities.mds_no arch_capabilities.gds_no/' \
	    "$prof/icx_04" >"$prof/icx-live"
	pair pool 0 "baseline --explain --json, feature MSRs known" baseline --explain --json "$prof/sky-live" "$prof/icx-live"
	pair pool 0 "baseline --json, feature MSRs known on some hosts" \
		baseline --json "$prof/sky-live" "$prof/icx-live" "$prof/haswellep_00"
	# a pool too long for the text: 40 hosts
	long=()
	for i in $(seq -w 1 40); do
		sed "s/^name: .*/name: node$i/" "$prof/cascadelakesp" >"$prof/node$i"
		long+=("$prof/node$i")
	done
	sed "s/^name: .*/name: node41/" "$prof/skylakexeon" >"$prof/node41"
	long+=("$prof/node41")
	pair pool 0 "baseline --json of 41 hosts" baseline --json "${long[@]}"
	pair pool 0 "baseline --explain --json of 41 hosts" baseline --explain --json "${long[@]}"
	"$PCMCTL" host --from-cpuid "$tmp/cut.cpuid" >"$prof/cut" 2>/dev/null
	pair pool 0 "baseline --json --force with a host below min (level none)" \
		baseline --json --force "$prof/haswellep_00" "$prof/cut"
fi


MKID_VERSION=2
id=$tmp/id
mkdir -p "$id"
# Feature lists below are blank-separated words, split on purpose.
# shellcheck disable=SC2086
{
base="fpu pae cx8 cmov mmx fxsr sse sse2 syscall nx lm"
v2set="$base pni ssse3 cx16 sse4_1 sse4_2 popcnt lahf_lm"
mkid GenuineIntel baseline 46 $base pni ssse3 sse4_1 sse4_2 popcnt avx2 bmi2 >"$id/vm-a"
mkid GenuineIntel x86-64-v2 46 $base pni ssse3 sse4_1 sse4_2 popcnt >"$id/vm-b"
mkid GenuineIntel off 46 $base sse4_2 popcnt aes >"$id/A"
mkid GenuineIntel off 46 $base sse4_2 popcnt >"$id/B"
mkid GenuineIntel off 46 $base popcnt aes >"$id/C"
mkid AuthenticAMD off 46 $base >"$id/amd"
mkid GenuineIntel off 46 $base >"$id/base"
mkid GenuineIntel off 39 $base >"$id/phys39"
mkid GenuineIntel x86-64-v2 46 $v2set >"$id/v2vm"
mkid GenuineIntel off 46 $v2set aes avx2 bmi2 >"$id/v3host"
mkid GenuineIntel off 46 $base x2apic md_clear >"$id/nonhw"
TSC_KHZ=2400000 mkid GenuineIntel off 46 $base invtsc >"$id/tscvm"
TSC_KHZ=2000000 mkid GenuineIntel off 46 $base invtsc >"$id/tschost"
TSC_KHZ=2000000 TSC_SCALING=yes mkid GenuineIntel off 46 $base invtsc >"$id/tscscale"
}
sed 's/^mode: .*/mode: baseline/' "$id/v2vm" >"$id/blvm"
# a destination poorer in every limit
sed -e 's/^max_basic_leaf: .*/max_basic_leaf: 0xb/' -e 's/^max_ext_leaf: .*/max_ext_leaf: 0x80000001/' \
    -e 's/^xcr0: .*/xcr0: 0x1/' -e 's/^phys_bits: .*/phys_bits: 36/' "$id/base" >"$id/poor"

if [ -n "$have_dumps" ]; then
	"$PCMCTL" baseline "$prof/haswellep_00" "$prof/skylakexeon" >"$tmp/hs.pool" 2>/dev/null
	"$PCMCTL" baseline --json "$prof/haswellep_00" "$prof/skylakexeon" >"$tmp/hs.pool.json" 2>/dev/null
	"$PCMCTL" baseline --current "$tmp/hs.pool" --add "$prof/sandybridgeep" >"$tmp/hss.pool" 2>/dev/null
	"$py" -c '
import json, sys
vms = [{"id": "101-11", "pid": 101, "mode": "baseline", "identity": open(sys.argv[1]).read()},
       {"id": "102-11", "pid": 102, "mode": "x86-64-v2", "identity": open(sys.argv[2]).read()},
       {"id": "103-11", "pid": 103, "identity": None}]
json.dump({"format": "pcm_kvm.vms/1", "vms": vms}, open(sys.argv[3], "w"), indent=2)
' "$id/vm-a" "$id/vm-b" "$tmp/haswell.vms.json"
	pair pool 0 "--current --add, the pool's profiles absent" \
		baseline --json --current "$tmp/hs.pool" --add "$prof/sandybridgeep"
	pair pool 0 "--current --add --explain, the pool's profiles absent" \
		baseline --json --explain --current "$tmp/hs.pool" --add "$prof/sandybridgeep"
	pair pool 0 "--current --add with every profile" \
		baseline --json --current "$tmp/hs.pool" --add "$prof/icx_04" "$prof/haswellep_00" "$prof/skylakexeon"
	pair pool 0 "--current of a JSON pool --add" \
		baseline --json --current "$tmp/hs.pool.json" --add "$prof/cascadelakesp"
	pair pool 0 "--current --remove with the profiles of the hosts that stay" \
		baseline --json --current "$tmp/hss.pool" --remove sandybridgeep \
		"$prof/haswellep_00" "$prof/skylakexeon" "$prof/sandybridgeep"
	pair pool 0 "--current --remove --add --explain" \
		baseline --json --explain --current "$tmp/hss.pool" --remove sandybridgeep \
		--add "$prof/icx_04" "$prof/haswellep_00" "$prof/skylakexeon" "$prof/sandybridgeep"
	pair pool 1 "--current --add --vms: a move refused (exit 1)" \
		baseline --json --current "$tmp/hs.pool" --add "$prof/sandybridgeep" --vms "$tmp/haswell.vms.json"
	pair pool 0 "--current --add --vms: nothing refused" \
		baseline --json --current "$tmp/hs.pool" --add "$prof/cascadelakesp" --vms "$tmp/haswell.vms.json"
fi

# ---------------------------------------------------------------------------
# apply, on a fake sysfs tree

asys=$tmp/applysys
mkdir -p "$asys"
: >"$asys/baseline"
echo "AVX2, sse2" >"$tmp/plain"
PCMCTL_SYSFS=$asys doc apply 0 "apply --json --force of a plain list below min" apply --json --force "$tmp/plain"
if [ -n "$have_dumps" ]; then
	PCMCTL_SYSFS=$asys doc apply 0 "apply --json of a pool file" apply --json "$tmp/hs.pool"
	PCMCTL_SYSFS=$asys doc apply 0 "apply --json of a JSON pool file" apply --json "$tmp/hs.pool.json"
	sed -n 's/^features: //p' "$prof/skylakexeon" >"$asys/host_features"
	PCMCTL_SYSFS=$asys doc apply 0 "apply --json with host_features that has every feature" \
		apply --json "$tmp/hs.pool"
	check "apply --json: the baseline written is the document's" eval \
		'[ "$("$py" -c "import json,sys; print(\" \".join(json.load(open(sys.argv[1]))[\"baseline\"]))" "$last")" = "$(<"$asys/baseline")" ]'
fi

# ---------------------------------------------------------------------------
# check --host

# cdoc DESC RC ARGS...: a check document and its text
cdoc() {
	local d=$1 want=$2
	shift 2
	pair check "$want" "$d" check --json "$@"
}
cdoc "identical" 0 "$id/A" --host "$id/A"
cdoc "compatible (host has more)" 0 "$id/B" --host "$id/A"
cdoc "incompatible: missing" 1 "$id/A" --host "$id/B"
cdoc "incompatible both ways" 1 "$id/B" --host "$id/C"
cdoc "another vendor" 1 "$id/amd" --host "$id/base"
cdoc "fewer phys_bits" 1 "$id/base" --host "$id/phys39"
cdoc "more phys_bits on the host" 0 "$id/phys39" --host "$id/base"
cdoc "every limit lower" 1 "$id/base" --host "$id/poor"
cdoc "KVM and scrub bits" 0 "$id/nonhw" --host "$id/base"
cdoc "a v2 VM on a v3 host" 0 "$id/v2vm" --host "$id/v3host"
cdoc "a baseline VM with --baseline LIST" 0 "$id/blvm" --host "$id/v3host" --baseline "$v2set"
cdoc "a baseline VM, the baseline lacks popcnt" 1 "$id/blvm" --host "$id/v3host" --baseline "${v2set/popcnt/}"
cdoc "another TSC rate, no scaling" 1 "$id/tscvm" --host "$id/tschost"
cdoc "another TSC rate, scaling" 0 "$id/tscvm" --host "$id/tscscale"
STDIN=$id/A cdoc "FILE from standard input" 1 - --host "$id/B"
if [ -n "$have_dumps" ]; then
	cdoc "a baseline VM with --baseline POOL_FILE" 0 "$id/blvm" --host "$id/v3host" --baseline "$tmp/hs.pool"
fi
mkdir -p "$tmp/blsys"
echo "$v2set aes" >"$tmp/blsys/baseline"
PCMCTL_SYSFS=$tmp/blsys doc check 0 "a baseline VM, baseline from PCMCTL_SYSFS" \
	check --json "$id/blvm" --host "$id/v3host"

# ---------------------------------------------------------------------------
# vms, show, set on a fake sysfs tree

sys=$tmp/sysfs
live=$$-11
gone=2147483646-7
mkdir -p "$sys/vms/$live" "$sys/vms/$gone" "$sys/vms/$$-12" "$sys/vms/$$-13"
echo x86-64-v3 >"$sys/vms/$live/mode"
echo "fpu sse sse2 avx avx512f" >"$sys/vms/$live/requested"
echo "fpu sse sse2 avx" >"$sys/vms/$live/visible"
echo "avx512f" >"$sys/vms/$live/hidden"
cp "$id/v2vm" "$sys/vms/$live/identity"
echo baseline >"$sys/vms/$gone/mode"
echo "fpu" >"$sys/vms/$gone/visible"
: >"$sys/vms/$gone/hidden"
echo "blocked: host lacks avx2" >"$sys/vms/$gone/status"
echo off >"$sys/vms/$$-12/mode"
: >"$sys/vms/$$-12/requested"
echo min >"$sys/vms/$$-13/mode"
echo "fpu,sse,sse2" >"$sys/vms/$$-13/visible"
printf 'avx2\nbmi2\n' >"$sys/vms/$$-13/hidden"
printf 'blocked: expected\tidentity\n' >"$sys/vms/$$-13/status"
PCMCTL_SYSFS=$sys doc vms 0 "vms --json: four VMs" vms --json
PCMCTL_SYSFS=$sys doc vms 0 "vms --json --pid: this shell's" vms --json --pid $$
PCMCTL_SYSFS=$sys doc vms 1 "vms --json --pid of a process without VMs (exit 1)" vms --json --pid 1
for v in "$live" "$gone" "$$-12" "$$-13"; do
	PCMCTL_SYSFS=$sys doc vm 0 "show --json $v" show --json "$v"
done
if [ -n "$have_dumps" ]; then
	PCMCTL_SYSFS=$sys "$PCMCTL" vms --json >"$tmp/live.vms.json" 2>/dev/null
	pair pool 0 "--vms of a vms --json document (the VM can move)" \
		baseline --json --current "$tmp/hs.pool" --add "$prof/sandybridgeep" --vms "$tmp/live.vms.json"
fi
empty=$tmp/emptysys
mkdir -p "$empty/vms"
PCMCTL_SYSFS=$empty doc vms 0 "vms --json: no VM" vms --json
# set needs root and the module: a document made by hand, as set prints it
ndoc=$((ndoc + 1))
printf '{"format": "pcm_kvm.set/1", "vm": "1234-11", "mode": "x86-64-v2"}\n' >"$docs/$ndoc.set.json"
printf '%s\t%s\t%s\n' "$docs/$ndoc.set.json" set "set --json (a sample as cmd_vm.c prints it)" >>"$tmp/index"

# ---------------------------------------------------------------------------
# diff

# ddoc DESC RC A B
ddoc() {
	pair diff "$2" "$1" diff --json "$3" "$4"
}
ddoc "two identities, another mode and features" 1 "$id/v2vm" "$id/v3host"
ddoc "an identity and itself" 0 "$id/A" "$id/A"
ddoc "identities with other TSC rates" 1 "$id/tscvm" "$id/tschost"
if [ -n "$have_dumps" ]; then
	ddoc "a profile and itself" 0 "$prof/haswellep_00" "$prof/haswellep_00"
	ddoc "two profiles" 1 "$prof/haswellep_00" "$prof/icx_04"
	ddoc "a text and a JSON profile" 1 "$prof/zen" "$prof/genoa_01.json"
	ddoc "a profile and its dump" 0 "$prof/milan_02" "$cpuid_dir/milan_02.cpuid"
	ddoc "a pool and a profile" 1 "$tmp/hs.pool" "$prof/haswellep_00"
	ddoc "an identity and a profile" 1 "$id/base" "$prof/haswellep_00"
	ddoc "another vendor" 1 "$prof/zen" "$prof/skylakexeon"
	STDIN=$prof/turin_01 ddoc "standard input and a profile" 1 - "$prof/rome"
	sed -e 's/^feature_msrs: .*/feature_msrs: known/' -e 's/^kernel: .*/kernel: 6.1.0-18-amd64/' \
	    -e 's/^microcode: .*/microcode: 0x49/' -e 's/^withheld: .*/withheld: avx512f/' \
	    -e 's/^family: .*/family: 6/' "$prof/skylakexeon" >"$prof/sky-a"
	sed -e 's/^kernel: .*/kernel: 6.12.0-1-amd64/' -e 's/^microcode: .*/microcode: 0x4b/' \
	    -e 's/^family: .*/family: 6/' "$prof/skylakexeon" >"$prof/sky-b"
	ddoc "a host over time: kernel, microcode, withheld" 1 "$prof/sky-a" "$prof/sky-b"
fi
if [ -e /dev/pcm_kvm ]; then
	ddoc "this host, live, and itself" 0 host host
else
	note "diff host host: no /dev/pcm_kvm here; scripts/test-pool-live checks it on a test kernel"
fi

# ---------------------------------------------------------------------------
# Validation

pyresults schemas
pyresults docs "$tmp/index"
pyresults negative "$tmp/index"
pyresults text "$tmp/pairs"
note "$ndoc documents"

# ---------------------------------------------------------------------------
# The man page

if "$here/gen-json-doc" --check 2>"$tmp/gen.err"; then
	ok "pcmctl.8: the JSON section is generated from schema/*.json (gen-json-doc --check)"
else
	not_ok "pcmctl.8: the JSON section is generated from schema/*.json (gen-json-doc --check)" \
		"$(cat "$tmp/gen.err")"
fi
if command -v man >/dev/null && command -v col >/dev/null; then
	LC_ALL=C MANWIDTH=80 man -l "$here/pcmctl.8" 2>/dev/null | col -b >"$tmp/page"
	"$here/gen-json-doc" --list >"$tmp/keys"
	pyresults man "$tmp/page" "$tmp/keys"
else
	not_ok "pcmctl.8 JSON: man and col to render the page"
fi

tap_finish
