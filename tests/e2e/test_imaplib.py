# Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
#
# Python's imaplib through bailey to the real Dovecot: LOGIN, SELECT,
# FETCH, SEARCH, a short IDLE that sees a new message arrive, LOGOUT.
# Runs in the pytest process (root), trusting nothing bailey sends.

import imaplib
import re
import socket
import time

from bailey_harness import HOST
from conftest import make_message

TIMEOUT = 20


def connect(bailey, mb):
    m = imaplib.IMAP4(HOST, bailey.imap_port, timeout=TIMEOUT)
    typ, data = m.login(mb.user, mb.password)
    assert typ == "OK", data
    return m


def test_imap_login_select_fetch_logout(bailey, filled_mailbox):
    mb = filled_mailbox
    m = connect(bailey, mb)
    typ, data = m.select("INBOX")
    assert typ == "OK"
    assert int(data[0]) == len(mb.delivered)
    for i, want in enumerate(mb.delivered, 1):
        typ, data = m.fetch(str(i), "(BODY.PEEK[])")
        assert typ == "OK", data
        assert data[0][1] == want, "message %d differs" % i
    typ, data = m.fetch("1:*", "(RFC822.SIZE)")
    assert typ == "OK"
    sizes = [int(re.search(rb"RFC822\.SIZE (\d+)", d).group(1))
             for d in data]
    assert sizes == [len(x) for x in mb.delivered]
    typ, data = m.logout()
    assert typ == "BYE"


def test_imap_search(bailey, mailbox):
    mb = mailbox
    mb.deliver(make_message(1, subject="apples"))
    mb.deliver(make_message(2, subject="pears"))
    mb.deliver(make_message(3, subject="apples and pears"))
    m = connect(bailey, mb)
    try:
        assert m.select("INBOX")[0] == "OK"
        typ, data = m.search(None, "SUBJECT", "apples")
        assert typ == "OK"
        assert data[0].split() == [b"1", b"3"]
        typ, data = m.search(None, "SUBJECT", "pears")
        assert data[0].split() == [b"2", b"3"]
        typ, data = m.search(None, "SUBJECT", "plums")
        assert data[0].split() == []
    finally:
        m.logout()


def test_imap_bad_password_then_good(bailey, filled_mailbox):
    mb = filled_mailbox
    m = imaplib.IMAP4(HOST, bailey.imap_port, timeout=TIMEOUT)
    try:
        try:
            m.login(mb.user, "wrong-" + mb.password)
            raise AssertionError("login with a wrong password succeeded")
        except imaplib.IMAP4.error:
            pass
        typ, data = m.login(mb.user, mb.password)
        assert typ == "OK"
        assert m.select("INBOX", readonly=True)[0] == "OK"
    finally:
        m.logout()
    assert mb.password.encode() not in bailey.log_bytes()
    assert ("wrong-" + mb.password).encode() not in bailey.log_bytes()


def read_until(m, pattern, deadline):
    rx = re.compile(pattern)
    lines = []
    while time.monotonic() < deadline:
        try:
            line = m.readline()
        except socket.timeout:
            continue
        if not line:
            raise AssertionError("connection closed; got %r" % lines)
        lines.append(line)
        if rx.search(line):
            return lines
    raise AssertionError("no line matching %r; got %r" % (pattern, lines))


def test_imap_idle(bailey, filled_mailbox):
    mb = filled_mailbox
    m = connect(bailey, mb)
    try:
        typ, data = m.select("INBOX")
        assert typ == "OK" and int(data[0]) == 3
        # imaplib before Python 3.14 has no idle(): speak it directly.
        tag = m._new_tag()
        m.send(tag + b" IDLE\r\n")
        deadline = time.monotonic() + TIMEOUT
        read_until(m, rb"^\+ ", deadline)
        mb.deliver(make_message(4, subject="arrives during IDLE"))
        read_until(m, rb"^\* 4 EXISTS\r\n$", deadline)
        m.send(b"DONE\r\n")
        read_until(m, rb"^" + re.escape(tag) + rb" OK", deadline)
        typ, data = m.fetch("4", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        assert typ == "OK"
        assert b"arrives during IDLE" in data[0][1]
        typ, data = m.noop()
        assert typ == "OK"
    finally:
        m.logout()
