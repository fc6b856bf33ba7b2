#!/usr/bin/env bash
# Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
#
# check.sh BUILD: every test, in order: unit tests, fuzz corpus replay, man
# page lint, end-to-end.  Keeps going after a failure, prints a summary,
# and ends with one line "N passed, N failed" over everything; exits
# non-zero if anything failed.  Called by `make check` after the build, as
# the invoking user (root for e2e); trusts the tree it runs in.
#
# Each stage's count is its last "name: N passed, N failed" line (the
# stage scripts end with one).  A stage that prints none counts as one
# test: passed if it exited 0, failed otherwise.  A stage that exits
# non-zero without counting a failure counts one more.
set -uo pipefail

build=${1:-build}
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here" || exit 1
make=${MAKE:-make}

stages=(unit fuzz-replay man-lint bench-selftest e2e image-test)
declare -A st_pass st_fail st_rc
total_pass=0
total_fail=0

run_stage() {
	local stage=$1 out rc line p f
	echo "=== $stage"
	out=$(mktemp "${TMPDIR:-/tmp}/bailey-check.XXXXXX")
	"$make" --no-print-directory BUILD="$build" "$stage" 2>&1 | tee "$out"
	rc=${PIPESTATUS[0]}
	line=$(grep -E '^([^ ]+: )?[0-9]+ passed, [0-9]+ failed' "$out" |
	    tail -n 1)
	rm -f "$out"
	if [[ -n $line ]]; then
		p=$(sed -E 's/^([^ ]+: )?([0-9]+) passed, ([0-9]+) failed.*/\2/' <<<"$line")
		f=$(sed -E 's/^([^ ]+: )?([0-9]+) passed, ([0-9]+) failed.*/\3/' <<<"$line")
		if ((rc != 0 && f == 0)); then
			f=1
		fi
	elif ((rc == 0)); then
		p=1 f=0
	else
		p=0 f=1
	fi
	st_pass[$stage]=$p
	st_fail[$stage]=$f
	st_rc[$stage]=$rc
	((total_pass += p, total_fail += f))
}

for s in "${stages[@]}"; do
	run_stage "$s"
done

echo
echo "=== summary ($build)"
for s in "${stages[@]}"; do
	if ((st_fail[$s] == 0)); then
		verdict=ok
	else
		verdict=FAILED
	fi
	printf '  %-12s %5d passed, %5d failed  (exit %d) %s\n' "$s" \
	    "${st_pass[$s]}" "${st_fail[$s]}" "${st_rc[$s]}" "$verdict"
done
echo "$total_pass passed, $total_fail failed"
((total_fail == 0))
