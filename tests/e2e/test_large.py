# Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
#
# A 5 MB message through bailey, byte-exact: IMAP FETCH with imaplib and
# curl, POP3 RETR with poplib.  Runs in the pytest process (root),
# trusting nothing bailey sends.

import hashlib
import imaplib
import poplib
import random
import subprocess

from bailey_harness import HOST

SIZE = 5 * 1024 * 1024
TIMEOUT = 60


def big_message(size=SIZE, seed=1):
    """Deterministic printable lines of varying length (CRLF), some with
    a leading dot, padded to exactly `size` bytes."""
    rnd = random.Random(seed)
    alphabet = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    head = (b"From: big@example.net\r\nTo: rcpt@example.net\r\n"
            b"Subject: five megabytes\r\n\r\n")
    parts = [head]
    n = len(head)
    while n < size - 1200:
        ln = rnd.randrange(0, 998)
        line = bytes(rnd.choice(alphabet) for _ in range(ln % 97)) * (
            1 + ln // 97)
        line = line[:ln]
        if rnd.random() < 0.02:
            line = b"." + line[:-1] if line else b"."
        parts.append(line + b"\r\n")
        n += len(line) + 2
    pad = size - n - 2
    parts.append(b"x" * pad + b"\r\n")
    data = b"".join(parts)
    assert len(data) == size
    return data


def digest(b):
    return hashlib.sha256(b).hexdigest()


def test_large_imap_fetch(bailey, mailbox):
    msg = mailbox.deliver(big_message())
    m = imaplib.IMAP4(HOST, bailey.imap_port, timeout=TIMEOUT)
    try:
        m.login(mailbox.user, mailbox.password)
        assert m.select("INBOX")[0] == "OK"
        typ, data = m.fetch("1", "(BODY.PEEK[])")
        assert typ == "OK"
        got = data[0][1]
        assert len(got) == len(msg)
        assert digest(got) == digest(msg)
    finally:
        m.logout()


def test_large_imap_curl(bailey, mailbox):
    msg = mailbox.deliver(big_message(seed=2))
    r = subprocess.run(
        ["curl", "-sS", "--max-time", "60", "-u",
         "%s:%s" % (mailbox.user, mailbox.password),
         "imap://%s:%d/INBOX;MAILINDEX=1" % (HOST, bailey.imap_port)],
        stdin=subprocess.DEVNULL, capture_output=True, timeout=90)
    assert r.returncode == 0, r.stderr
    assert len(r.stdout) == len(msg)
    assert digest(r.stdout) == digest(msg)


def test_large_pop3_retr(bailey, mailbox):
    msg = mailbox.deliver(big_message(seed=3))
    p = poplib.POP3(HOST, bailey.pop3_port, timeout=TIMEOUT)
    try:
        p.user(mailbox.user)
        p.pass_(mailbox.password)
        resp, lines, octets = p.retr(1)
        assert resp.startswith(b"+OK")
        got = b"\r\n".join(lines) + b"\r\n"
        assert len(got) == len(msg)
        assert digest(got) == digest(msg)
    finally:
        p.quit()
