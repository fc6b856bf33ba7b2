#!/bin/sh
# Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
#
# selftest.sh BUILD: the bench tools' own tests, for `make bench-selftest`
# (and `make check`, if the lead hooks it in): the benchproto unit test,
# its corpus replay (when tests/fuzz/replay.c exists) and the smoke test.
# Runs as the invoking user; trusts the binaries it is given.  Last line:
# "bench-selftest: N passed, N failed", summed over the three.
set -u
build=${1:-build}
cd "$(dirname "$0")/../.." || exit 1
passed=0
failed=0

# count CMD...: runs CMD and adds its last "N passed, N failed" line.
count() {
	out=$("$@" 2>&1)
	rc=$?
	printf '%s\n' "$out"
	line=$(printf '%s\n' "$out" | grep -E '[0-9]+ passed, [0-9]+ failed' |
	    tail -n 1)
	p=$(printf '%s' "$line" | sed -E 's/^(.*[^0-9])?([0-9]+) passed.*/\2/')
	f=$(printf '%s' "$line" | sed -E 's/.* ([0-9]+) failed.*/\1/')
	[ -n "$line" ] || { p=0; f=1; }
	[ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && f=1
	passed=$((passed + p))
	failed=$((failed + f))
}

count "$build/bench/test_benchproto"
if [ -x "$build/bench/replay_benchproto" ]; then
	count "$build/bench/replay_benchproto" tests/bench/corpus/benchproto
else
	echo "bench-selftest: no replayer (tests/fuzz/replay.c missing?)"
fi
case $build in
/*) abs=$build ;;
*) abs=$(pwd)/$build ;;
esac
count env BAILEY_BUILD="$abs" tests/bench/smoke.sh
echo "bench-selftest: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
