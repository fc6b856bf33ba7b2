# Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
#
# Post-login capability filtering seen by real clients: stripped names are
# gone before and after login (also from the LOGIN tagged OK), message
# bodies that look like capability lists come through byte-exact, and
# sessions without rules keep the splice relay.

import imaplib
import os
import poplib

from bailey_harness import HOST
from rawclient import Raw
from test_supervision import pids_of

TRAP = (b"From: a@example.net\r\nTo: b@example.net\r\nSubject: trap\r\n\r\n"
        b"* CAPABILITY IMAP4rev1 COMPRESS=DEFLATE NOTIFY\r\n"
        b"* OK [CAPABILITY IMAP4rev1 NOTIFY] in a body\r\n"
        b"TOP\r\nSASL PLAIN\r\n.\r\n..\r\nend\r\n")


def caps_words(lines):
    return set(w.upper() for ln in lines for w in ln.split())


def test_imap_strip_after_login(bailey_factory, mailbox):
    mb = mailbox
    mb.deliver(TRAP)
    b = bailey_factory(extra="capability imap strip NOTIFY THREAD=* "
                             "COMPRESS\n")
    r = Raw(b.imap_port)
    assert b"NOTIFY" not in r.greeting
    out = r.cmd(b"a LOGIN %s %s\r\n" % (mb.user.encode(),
                                        mb.password.encode()), rb"^a ")
    assert out[-1].startswith(b"a OK")
    words = caps_words(out)
    assert b"IMAP4REV1" in words or b"[CAPABILITY" in words
    assert not any(w.startswith(b"THREAD=") or w.startswith(b"NOTIFY")
                   for w in words), out[-1]
    out = r.cmd(b"b CAPABILITY\r\n", rb"^b ")
    words = caps_words(out[:-1])
    assert b"IMAP4REV1" in words and b"IDLE" in words
    assert b"NOTIFY" not in words
    assert not any(w.startswith(b"THREAD=") for w in words)
    r.close()
    m = imaplib.IMAP4(HOST, b.imap_port, timeout=10)
    m.login(mb.user, mb.password)
    m.select("INBOX")
    typ, data = m.fetch("1", "(BODY.PEEK[])")
    assert data[0][1] == TRAP                  # byte-exact
    assert "NOTIFY" not in m.capabilities
    m.logout()


def test_imap_allow_list(bailey_factory, mailbox):
    mb = mailbox
    b = bailey_factory(extra="capability imap allow IDLE NAMESPACE\n")
    m = imaplib.IMAP4(HOST, b.imap_port, timeout=10)
    m.login(mb.user, mb.password)
    typ, data = m.capability()
    got = set(data[0].upper().split())
    assert got == {b"IMAP4REV1", b"IDLE", b"NAMESPACE"}, got
    m.logout()


def test_pop3_capa_filtered_retr_untouched(bailey_factory, mailbox):
    mb = mailbox
    mb.deliver(TRAP)
    b = bailey_factory(extra="capability pop3 strip TOP\n")
    p = poplib.POP3(HOST, b.pop3_port, timeout=10)
    p.user(mb.user)
    p.pass_(mb.password)
    capa = p.capa()
    assert "TOP" not in capa and "UIDL" in capa
    assert b"\r\n".join(p.retr(1)[1]) + b"\r\n" == TRAP
    p.quit()


def worker_pipes(b):
    n = 0
    for w in pids_of(b, "worker"):
        for fd in os.listdir("/proc/%d/fd" % w):
            try:
                if os.readlink("/proc/%d/fd/%s" % (w, fd)).startswith(
                        "pipe:"):
                    n += 1
            except OSError:
                pass
    return n


def test_splice_kept_without_rules(bailey_factory, mailbox):
    mb = mailbox
    for extra, want_pipes in (("", True),
                              ("capability imap strip NOTIFY\n", False)):
        b = bailey_factory(workers=1, extra=extra)
        before = worker_pipes(b)
        r = Raw(b.imap_port)
        r.cmd(b"a LOGIN %s %s\r\n" % (mb.user.encode(),
                                      mb.password.encode()), rb"^a ")
        r.cmd(b"b NOOP\r\n", rb"^b ")
        during = worker_pipes(b)
        r.close()
        assert (during - before == 4) == want_pipes, (extra, before,
                                                      during)
