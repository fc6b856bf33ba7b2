# Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
#
# bailey's process contract: `-n` checks a config, `-d` runs in the
# foreground with greetings on both listeners, SIGTERM drains and exits 0.
# Runs in the pytest process (root).

import imaplib
import os
import socket
import subprocess

from bailey_harness import HOST, Bailey, bailey_binary, bailey_conf, free_port


def test_config_check_ok(state_root, dovecot):
    conf = bailey_conf(free_port(), free_port(), (HOST, dovecot.imap_port),
                       (HOST, dovecot.pop3_port))
    b = Bailey(os.path.join(state_root, "cfg-ok"), conf)
    rc, out = b.check_config()
    assert rc == 0, out
    assert "configuration OK" in out


def test_config_check_rejects_garbage(state_root):
    b = Bailey(os.path.join(state_root, "cfg-bad"),
               "workers 2\nthis is not a keyword 42\n")
    rc, out = b.check_config()
    assert rc != 0
    assert "configuration OK" not in out


def test_greetings_and_sigterm(bailey):
    with socket.create_connection((HOST, bailey.imap_port), timeout=10) as s:
        assert s.recv(512).startswith(b"* OK")
    with socket.create_connection((HOST, bailey.pop3_port), timeout=10) as s:
        assert s.recv(512).startswith(b"+OK")
    assert bailey.alive()
    status = bailey.stop(timeout=10)
    assert not bailey.killed, "bailey ignored SIGTERM for 10 s"
    assert status == 0


def test_sigterm_with_idle_session(bailey, filled_mailbox):
    # A logged-in client must not keep bailey from exiting on SIGTERM.
    mb = filled_mailbox
    m = imaplib.IMAP4(HOST, bailey.imap_port, timeout=20)
    m.login(mb.user, mb.password)
    m.select("INBOX")
    status = bailey.stop(timeout=15)
    assert not bailey.killed, "bailey did not drain within 15 s"
    assert status == 0
    try:
        m.shutdown()
    except OSError:
        pass


def test_usage_without_config_fails():
    r = subprocess.run([bailey_binary(), "-n", "-f", "/nonexistent/bailey.conf"],
                       stdin=subprocess.DEVNULL, capture_output=True,
                       timeout=30)
    assert r.returncode != 0
