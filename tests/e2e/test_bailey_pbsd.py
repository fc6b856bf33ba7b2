# Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
#
# bailey feeds pbsd: a successful login (and only that) puts the client's
# address into the table that Postfix reads (postmap -q), and a failed or
# refused login never does (threat row 43, the bailey side).

import os
import shutil
import time

import pytest

from pbsd_fixtures import Pbsd, make_tmpdir, postmap_q
from rawclient import Raw, imap_login_works, pop3_login_works

ADDR = "127.0.0.1"


@pytest.fixture
def pbsd_bailey(bailey_factory):
    root = make_tmpdir("bailey-pbsd.")
    p = Pbsd(os.path.join(root, "pbsd"), expire=60).start()
    confdir = os.path.join(root, "postfix")
    os.makedirs(confdir)
    with open(os.path.join(confdir, "main.cf"), "w") as f:
        f.write("compatibility_level = 3.6\n")
    b = bailey_factory(extra='pbsd socket "%s"\npbsd alive-interval 10\n'
                       % p.sock, auth_failure_delay=0)
    yield p, b, confdir
    p.stop()
    shutil.rmtree(root, ignore_errors=True)


def listed(p):
    rc, out, _ = p.ctl("list")
    assert rc == 0
    return out


def table(p):
    return p.db[:-len(".db")]


def test_row43_failed_logins_never_whitelist(pbsd_bailey, filled_mailbox):
    p, b, confdir = pbsd_bailey
    mb = filled_mailbox
    r = Raw(b.imap_port)
    r.cmd(b"a LOGIN %s wrong\r\n" % mb.user.encode(), rb"^a ")
    r.cmd(b"b LOGIN nosuchuser x\r\n", rb"^b ")
    r.cmd(b"c AUTHENTICATE PLAIN\r\n", rb"^\+")
    r.cmd(b"*\r\n", rb"^c ")
    r.close()
    r = Raw(b.pop3_port)
    r.cmd(b"USER %s\r\n" % mb.user.encode(), rb"^\+OK")
    r.cmd(b"PASS wrong\r\n", rb"^-ERR")
    r.close()
    # pbsd flushes at least every second: give it two.
    time.sleep(2.2)
    assert postmap_q(ADDR, table(p), confdir) is None
    assert ADDR not in listed(p)


@pytest.mark.parametrize("proto", ["imap", "pop3"])
def test_successful_login_reaches_postfix_map(pbsd_bailey, filled_mailbox,
                                              proto):
    p, b, confdir = pbsd_bailey
    mb = filled_mailbox
    assert postmap_q(ADDR, table(p), confdir) is None
    if proto == "imap":
        assert imap_login_works(b.imap_port, mb.user, mb.password)
    else:
        assert pop3_login_works(b.pop3_port, mb.user, mb.password)
    p.wait_for(lambda: postmap_q(ADDR, table(p), confdir) == "OK",
               timeout=5, what="the client address in the Postfix map")
    assert ADDR in listed(p)
