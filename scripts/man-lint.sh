#!/usr/bin/env bash
# Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
#
# man-lint.sh: runs `mandoc -Tlint -Wwarning` on every manual page in
# docs/*.[1-8] and counts a page as failed if mandoc prints anything or
# exits non-zero.  Run by `make man-lint` (and so by `make check`) as the
# invoking user; trusts the tree it runs in.  The check that every
# bailey.conf keyword is documented lives in tests/unit/test_config.c.
# Last line: "man-lint: N passed, N failed".
set -uo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here" || exit 1

if ! command -v mandoc >/dev/null 2>&1; then
	echo "man-lint: mandoc not found (apt-get install mandoc)" >&2
	echo "man-lint: 0 passed, 1 failed"
	exit 1
fi

passed=0
failed=0
shopt -s nullglob
pages=(docs/*.[1-8])
if ((${#pages[@]} == 0)); then
	echo "man-lint: no pages in docs/" >&2
	echo "man-lint: 0 passed, 1 failed"
	exit 1
fi
for page in "${pages[@]}"; do
	out=$(mandoc -Tlint -Wwarning "$page" 2>&1)
	rc=$?
	if ((rc != 0)) || [[ -n $out ]]; then
		printf '%s\n' "$out"
		echo "FAIL $page (mandoc exit $rc)"
		((failed++))
	else
		echo "ok   $page"
		((passed++))
	fi
done
echo "man-lint: $passed passed, $failed failed"
((failed == 0))
