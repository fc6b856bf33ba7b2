#!/bin/sh
# Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
#
# `make bench`: runs the benchmark (tests/bench/run.py) as the invoking
# user (root on the bench machine: it installs what tests/bench/DEPS lists
# and is missing, raises nofile limits and starts Dovecot).  Trusts apt
# and the tree.  Packages whose install starts a system daemon (nginx,
# Dovecot, Perdition on a systemd machine) get exactly the daemons that
# the install started stopped again, by PID; nothing that ran before is
# touched.  Builds the bench tools if missing.  QUICK=1 runs every
# workload once, briefly; arguments (or BENCH_ARGS) name workloads to run
# alone.  Results go to bench/results/<date>-<git rev>.md.
set -eu
cd "$(dirname "$0")/.."
: "${BAILEY_BUILD:=$(pwd)/build}"
export BAILEY_BUILD

daemon_pids() {
	for name in nginx dovecot perdition perdition.imap4 perdition.pop3 \
	    perdition.imaps perdition.pop3s; do
		pidof -x "$name" 2>/dev/null || true
	done | tr ' ' '\n' | sort -n
}

install_missing() {
	missing=
	while read -r pkg; do
		[ -n "$pkg" ] || continue
		st=$(dpkg-query -W -f '${db:Status-Status}' "$pkg" \
		    2>/dev/null || true)
		[ "$st" = installed ] || missing="$missing $pkg"
	done <tests/bench/DEPS
	[ -n "$missing" ] || return 0
	if [ "$(id -u)" -ne 0 ] || [ -n "${BENCH_NO_INSTALL:-}" ]; then
		echo "bench: missing packages:$missing (baselines without" \
		    "them are reported as not available)" >&2
		return 0
	fi
	echo "bench: installing$missing" >&2
	before=" $(daemon_pids | tr '\n' ' ') "
	# shellcheck disable=SC2086
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q $missing >&2 ||
	    { apt-get update -q >&2 &&
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -q $missing >&2; } ||
	    echo "bench: apt-get failed; going on without$missing" >&2
	for pid in $(daemon_pids); do
		case $before in
		*" $pid "*) ;;
		*)
			echo "bench: stopping daemon $pid started by the" \
			    "package install" >&2
			kill "$pid" 2>/dev/null || true ;;
		esac
	done
}

install_missing
if [ ! -x "$BAILEY_BUILD/bench/loadgen" ] ||
    [ ! -x "$BAILEY_BUILD/bench/fakebackend" ]; then
	make --no-print-directory BUILD="$BAILEY_BUILD" bench-tools
fi
for dep in python3 taskset openssl; do
	command -v "$dep" >/dev/null 2>&1 ||
	    { echo "bench: $dep is missing (see tests/bench/DEPS)" >&2; exit 1; }
done
# shellcheck disable=SC2086
exec python3 tests/bench/run.py ${BENCH_ARGS:-} "$@"
