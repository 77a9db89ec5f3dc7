# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# TAP helpers shared by pcmctl's test scripts (test.sh, test-xcheck.sh,
# test-pool.sh) and scripts/test-harness: source it, set TAP_NAME, count
# with ok/not_ok/skip, end with tap_finish ("1..N" and "TAP_NAME: N
# passed, N failed, N skipped").

n=0
passed=0
failed=0
skipped=0

ok() {		# ok DESC: record a pass
	n=$((n + 1))
	passed=$((passed + 1))
	echo "ok $n - $1"
}

not_ok() {	# not_ok DESC [DIAGNOSTIC...]: record a failure
	local d=$1 line
	shift
	n=$((n + 1))
	failed=$((failed + 1))
	echo "not ok $n - $d"
	for line in "$@"; do
		printf '%s\n' "$line" | sed 's/^/#   /'
	done
}

skip() {	# skip DESC REASON
	n=$((n + 1))
	skipped=$((skipped + 1))
	echo "ok $n - $1 # SKIP $2"
}

note() {	# note TEXT...: a diagnostic line
	printf '%s\n' "$*" | sed 's/^/# /'
}

tap_finish() {	# the plan and the summary; exit 0 iff nothing failed
	echo "1..$n"
	echo "${TAP_NAME:-tests}: $passed passed, $failed failed, $skipped skipped"
	[ "$failed" -eq 0 ]
	exit
}
