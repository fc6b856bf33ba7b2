#!/bin/sh
# Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
#
# Functional smoke test of the bench tools (never a speed test): starts
# the fake backend on loopback, runs 50 IMAP and 50 POP3 login cycles and
# two IMAP FETCH sessions through the load generator, and checks every
# cycle succeeded.  Runs as the invoking user; trusts the tools it built;
# stops the backend it started by PID, also on failure.  Last line:
# "bench-smoke: N passed, N failed".
set -u
: "${BAILEY_BUILD:=$(cd "$(dirname "$0")/../.." && pwd)/build}"
tools=$BAILEY_BUILD/bench
tmp=$(mktemp -d "${TMPDIR:-/tmp}/bench-smoke.XXXXXX")
fbpid=
cleanup() {
	if [ -n "$fbpid" ]; then
		kill "$fbpid" 2>/dev/null
		wait "$fbpid" 2>/dev/null
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok   $1"; }
fail() { failed=$((failed + 1)); echo "FAIL $1"; }

# Free ports: try a few, the backend exits at once if bind fails.
tries=0
while :; do
	base=$((20000 + ($$ * 7 + tries * 211) % 30000))
	imap=$base pop3=$((base + 1))
	: >"$tmp/fb.out"
	"$tools/fakebackend" -i "$imap" -p "$pop3" -s 65536 -t 120 \
	    >"$tmp/fb.out" 2>&1 &
	fbpid=$!
	i=0
	while [ $i -lt 50 ] && ! grep -q ready "$tmp/fb.out"; do
		kill -0 "$fbpid" 2>/dev/null || break
		sleep 0.05
		i=$((i + 1))
	done
	grep -q ready "$tmp/fb.out" && break
	kill "$fbpid" 2>/dev/null
	wait "$fbpid" 2>/dev/null
	fbpid=
	tries=$((tries + 1))
	if [ $tries -ge 5 ]; then
		fail "fake backend did not start: $(cat "$tmp/fb.out")"
		echo "bench-smoke: $passed passed, $failed failed"
		exit 1
	fi
done

# run NAME EXPECT-OK ARGS...: the RESULT line must show ok=EXPECT, err=0.
run() {
	name=$1 want=$2
	shift 2
	out=$("$tools/loadgen" -d 30 "$@" 2>"$tmp/err")
	case $out in
	*" ok=$want err=0 "*)
		ok "$name" ;;
	*)
		fail "$name: $out $(cat "$tmp/err")" ;;
	esac
}

run "imap login x50" 50 -p "$imap" -P imap -c 1 -n 50
run "pop3 login x50" 50 -p "$pop3" -P pop3 -c 1 -n 50
run "imap login x50, 8 at once" 50 -p "$imap" -P imap -c 8 -n 50
run "imap fetch x2" 2 -p "$imap" -W fetch -c 1 -n 2 -f 3
out=$("$tools/loadgen" -d 30 -p "$imap" -W fetch -c 1 -n 1 -f 3 2>&1)
case $out in
*" bytes=196608 "*) ok "fetch byte count" ;;
*) fail "fetch byte count: $out" ;;
esac
# A wrong port must count errors, not successes (the check can fail).
out=$("$tools/loadgen" -d 5 -p "$((imap + 2))" -c 1 -n 3 2>/dev/null)
case $out in
*" ok=0 err=3 "*) ok "refused connections are errors" ;;
*) fail "refused connections are errors: $out" ;;
esac
echo "bench-smoke: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
