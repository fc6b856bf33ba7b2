#!/usr/bin/env bash
# Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
#
# run-replay.sh DIR CORPUSROOT TARGET...: runs DIR/replay_<t> (a fuzz
# target linked with tests/fuzz/replay.c) over CORPUSROOT/<t>/ for each
# target.  A missing replayer or corpus directory is a failure.  Runs as
# the invoking user; trusts the binaries, not the corpus.  Last line:
# "fuzz-replay: N passed, N failed" (one count per input replayed).
set -uo pipefail

if (($# < 2)); then
	echo "usage: $0 DIR CORPUSROOT TARGET..." >&2
	exit 2
fi
dir=$1
corpus=$2
shift 2

passed=0
failed=0
for t in "$@"; do
	bin=$dir/replay_$t
	if [[ ! -x $bin ]]; then
		echo "fuzz-replay: $t: $bin missing"
		((failed++))
		continue
	fi
	if [[ ! -d $corpus/$t ]]; then
		echo "fuzz-replay: $t: corpus directory $corpus/$t missing"
		((failed++))
		continue
	fi
	out=$("$bin" "$corpus/$t" 2>&1)
	rc=$?
	line=$(printf '%s\n' "$out" |
	    grep -E '^([^ ]+: )?[0-9]+ passed, [0-9]+ failed' | tail -n 1)
	if ((rc != 0)) || [[ -z $line ]]; then
		printf '%s\n' "$out" | tail -n 60
	fi
	if [[ -z $line ]]; then
		echo "fuzz-replay: $t: exit status $rc and no result line"
		((failed++))
		continue
	fi
	echo "$line"
	p=$(sed -E 's/^([^ ]+: )?([0-9]+) passed, ([0-9]+) failed.*/\2/' <<<"$line")
	f=$(sed -E 's/^([^ ]+: )?([0-9]+) passed, ([0-9]+) failed.*/\3/' <<<"$line")
	((passed += p, failed += f))
	if ((rc != 0 && f == 0)); then
		((failed++))
	fi
done
if (($# == 0)); then
	echo "fuzz-replay: no targets given"
	((failed++))
fi
echo "fuzz-replay: $passed passed, $failed failed"
((failed == 0))
