#!/usr/bin/env bash
# Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
#
# dovecot-run.sh DIR IMAPPORT POP3PORT [--demo-mail] [--tls-cert PEM
# --tls-key PEM [--imaps-port N] [--pop3s-port N]]: a private Dovecot
# (the test backend) with all its state under DIR, listening on 127.0.0.1
# only.  Runs in the foreground until SIGTERM or SIGINT, then stops the
# Dovecot it started.  Runs as root (Dovecot drops to its own users) or as
# any user; trusts only the Debian dovecot packages.  Prints "dovecot
# ready: ..." once both ports answer.
set -euo pipefail
if (($# < 3)); then
	echo "usage: $0 DIR IMAPPORT POP3PORT [--demo-mail]" >&2
	exit 2
fi
here=$(cd "$(dirname "$0")/.." && pwd)
exec env -u PYTHONHOME -u PYTHONPATH /usr/bin/python3 \
    "$here/tests/e2e/dovecot.py" run "$@"
