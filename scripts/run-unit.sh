#!/usr/bin/env bash
# Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
#
# run-unit.sh BIN...: runs each unit-test binary (tests/unit/harness.h),
# shows its output, and adds up the "name: N passed, N failed" lines.  A
# binary that is missing, crashes, or exits non-zero without reporting a
# failure counts as one failure.  Runs as the invoking user; trusts the
# binaries it was given.  Last line: "unit: N passed, N failed".
set -uo pipefail

passed=0
failed=0
for bin in "$@"; do
	name=$(basename "$bin")
	if [[ ! -x $bin ]]; then
		echo "unit: $bin: missing or not executable"
		((failed++))
		continue
	fi
	out=$("$bin" 2>&1)
	rc=$?
	printf '%s\n' "$out"
	line=$(printf '%s\n' "$out" |
	    grep -E '^([^ ]+: )?[0-9]+ passed, [0-9]+ failed' | tail -n 1)
	if [[ -z $line ]]; then
		echo "unit: $name: exit status $rc and no result line"
		((failed++))
		continue
	fi
	p=$(sed -E 's/^([^ ]+: )?([0-9]+) passed, ([0-9]+) failed.*/\2/' <<<"$line")
	f=$(sed -E 's/^([^ ]+: )?([0-9]+) passed, ([0-9]+) failed.*/\3/' <<<"$line")
	((passed += p, failed += f))
	if ((rc != 0 && f == 0)); then
		echo "unit: $name: exit status $rc although it reported no failure"
		((failed++))
	fi
done
if (($# == 0)); then
	echo "unit: no test binaries given"
	((failed++))
fi
echo "unit: $passed passed, $failed failed"
((failed == 0))
