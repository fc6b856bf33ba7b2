# Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
#
# Python's poplib through bailey to the real Dovecot: STAT, LIST, RETR,
# DELE, QUIT; the deletion must persist, checked over a direct connection
# to Dovecot.  Runs in the pytest process (root), trusting nothing bailey
# sends.

import poplib

from bailey_harness import HOST

TIMEOUT = 20


def pop_lines(msg):
    """What poplib's retr returns (dot-unstuffed lines) for a message."""
    return msg.split(b"\r\n")[:-1]


def login(port, mb):
    p = poplib.POP3(HOST, port, timeout=TIMEOUT)
    p.user(mb.user)
    p.pass_(mb.password)
    return p


def test_pop3_stat_list_retr(bailey, filled_mailbox):
    mb = filled_mailbox
    p = login(bailey.pop3_port, mb)
    try:
        count, size = p.stat()
        assert count == len(mb.delivered)
        assert size == sum(len(m) for m in mb.delivered)
        resp, listing, _ = p.list()
        assert resp.startswith(b"+OK")
        assert listing == [b"%d %d" % (i, len(m))
                           for i, m in enumerate(mb.delivered, 1)]
        for i, want in enumerate(mb.delivered, 1):
            resp, lines, octets = p.retr(i)
            assert resp.startswith(b"+OK")
            assert lines == pop_lines(want), "message %d differs" % i
    finally:
        assert p.quit().startswith(b"+OK")


def test_pop3_dele_persists(bailey, filled_mailbox, dovecot):
    mb = filled_mailbox
    p = login(bailey.pop3_port, mb)
    resp, lines, _ = p.retr(2)
    assert lines == pop_lines(mb.delivered[1])
    assert p.dele(2).startswith(b"+OK")
    assert p.stat()[0] == 2
    assert p.quit().startswith(b"+OK")
    # Straight to Dovecot, not through bailey.
    d = login(dovecot.pop3_port, mb)
    try:
        count, _ = d.stat()
        assert count == 2
        _, l1, _ = d.retr(1)
        _, l2, _ = d.retr(2)
        assert l1 == pop_lines(mb.delivered[0])
        assert l2 == pop_lines(mb.delivered[2])
    finally:
        d.quit()
    assert dovecot.message_count(mb.user) == 2


def test_pop3_rset_keeps_messages(bailey, filled_mailbox, dovecot):
    mb = filled_mailbox
    p = login(bailey.pop3_port, mb)
    assert p.dele(1).startswith(b"+OK")
    assert p.rset().startswith(b"+OK")
    assert p.quit().startswith(b"+OK")
    d = login(dovecot.pop3_port, mb)
    try:
        assert d.stat()[0] == 3
    finally:
        d.quit()


def test_pop3_wrong_password(bailey, filled_mailbox):
    mb = filled_mailbox
    p = poplib.POP3(HOST, bailey.pop3_port, timeout=TIMEOUT)
    try:
        p.user(mb.user)
        try:
            p.pass_("wrong-" + mb.password)
            raise AssertionError("PASS with a wrong password succeeded")
        except poplib.error_proto as e:
            assert str(e).startswith("b'-ERR")
    finally:
        p.close()
    assert ("wrong-" + mb.password).encode() not in bailey.log_bytes()
