#!/usr/bin/env bash
# Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
#
# run-e2e.sh [PYTEST-ARGS...]: the end-to-end suite (tests/e2e, pytest) with
# Debian's python3 and python3-pytest, never a pyenv or venv interpreter.
# Needs BAILEY_BUILD (the build directory holding bailey); runs as root so
# the private Dovecot can drop privileges.  No tests collected (pytest's
# exit 5) is a failure.  Last line: "e2e: N passed, N failed" (errors count
# as failures).
set -uo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here" || exit 1
: "${BAILEY_BUILD:=$here/build}"
export BAILEY_BUILD

# Default to the whole suite unless a test path was given.
where=(tests/e2e)
for a in "$@"; do
	if [[ $a != -* && -e ${a%%::*} ]]; then
		where=()
		break
	fi
done

# Bounded: a hung gateway must not hang CI (pytest-timeout bounds each test).
log=$(mktemp "${TMPDIR:-/tmp}/bailey-run-e2e-log.XXXXXX")
trap 'rm -f "$log"' EXIT
timeout --kill-after=30 "${BAILEY_E2E_TIMEOUT:-1800}" \
    env -u PYTHONHOME -u PYTHONPATH PYTHONDONTWRITEBYTECODE=1 \
    /usr/bin/python3 -m pytest -q -rfE -p no:cacheprovider \
    --timeout="${BAILEY_TEST_TIMEOUT:-120}" "${where[@]}" "$@" 2>&1 |
    tee "$log"
rc=${PIPESTATUS[0]}

summary=$(grep -E '^=+ .* in [0-9.]+s.* =+$|^[0-9]+ (passed|failed|error)' "$log" | tail -n 1)
count() {
	local n
	n=$(grep -oE "[0-9]+ $1" <<<"$summary" | head -n 1 | cut -d' ' -f1)
	echo "${n:-0}"
}
passed=$(count passed)
failed=$(( $(count failed) + $(count 'errors?') ))

case $rc in
0) ;;
5)
	echo "e2e: no tests were collected"
	((failed++))
	;;
*)
	if ((failed == 0)); then
		echo "e2e: pytest exit status $rc"
		((failed++))
	fi
	;;
esac
echo "e2e: $passed passed, $failed failed"
((failed == 0 && rc == 0))
