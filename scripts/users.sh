#!/usr/bin/env bash
# Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
#
# users.sh: creates the system user the sandboxed bailey roles run as
# (_bailey, no home, no shell) and the empty root-owned chroot directory of
# the workers (/var/empty/bailey, 0755).  Called by scripts/deps.sh and by
# the sandbox e2e fixture; runs as root, trusts only useradd.  Idempotent:
# does nothing when both exist with the right owner and mode, and fails
# loudly when the directory exists but is unsafe (not root's, writable by
# others, or not empty).
#   BAILEY_USER (default _bailey), BAILEY_EMPTY (default /var/empty/bailey)
set -euo pipefail

user=${BAILEY_USER:-_bailey}
empty=${BAILEY_EMPTY:-/var/empty/bailey}

if ! getent passwd "$user" >/dev/null; then
	if ((EUID != 0)); then
		echo "users: $user is missing; run as root: useradd --system" \
		    "--user-group --no-create-home --home-dir /nonexistent" \
		    "--shell /usr/sbin/nologin $user" >&2
		exit 1
	fi
	echo "users: creating system user $user"
	useradd --system --user-group --no-create-home \
	    --home-dir /nonexistent --shell /usr/sbin/nologin "$user"
fi

if [[ ! -d $empty ]]; then
	if ((EUID != 0)); then
		echo "users: $empty is missing; run as root" >&2
		exit 1
	fi
	install -d -o root -g root -m 0755 "$(dirname "$empty")"
	install -d -o root -g root -m 0755 "$empty"
fi
if [[ $(stat -c '%u %a' "$empty") != "0 755" ]]; then
	echo "users: $empty must be owned by root, mode 0755" >&2
	exit 1
fi
if [[ -n $(ls -A "$empty") ]]; then
	echo "users: $empty must be empty" >&2
	exit 1
fi
exit 0
