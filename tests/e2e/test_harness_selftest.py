# Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
#
# The test tools themselves, without bailey: the private Dovecot serves
# what was delivered, and the hostile backend plays its script and records
# what it received.  Runs in the pytest process (root).

import poplib
import socket

from bailey_harness import HOST, bailey_conf


def test_dovecot_direct(dovecot, filled_mailbox):
    mb = filled_mailbox
    p = poplib.POP3(HOST, dovecot.pop3_port, timeout=10)
    try:
        p.user(mb.user)
        p.pass_(mb.password)
        assert p.stat()[0] == 3
        _, lines, _ = p.retr(3)
        assert b"\r\n".join(lines) + b"\r\n" == mb.delivered[2]
    finally:
        p.quit()


def test_hostile_backend_script(hostile_backend):
    hb = hostile_backend([
        ("send", b"* OK fake\r\n"),
        ("expect", rb"^a1 LOGIN "),
        ("send", b"a1 NO go away\r\n"),
        ("close",),
    ])
    with socket.create_connection(hb.address, timeout=10) as s:
        f = s.makefile("rb")
        assert f.readline() == b"* OK fake\r\n"
        s.sendall(b"a0 NOOP\r\na1 LOGIN u p\r\n")
        assert f.readline() == b"a1 NO go away\r\n"
        assert f.readline() == b""
    assert hb.received[0] == b"a0 NOOP\r\na1 LOGIN u p\r\n"
    assert hb.connections == 1


def test_bailey_conf_text():
    text = bailey_conf(1143, 1110, ("127.0.0.1", 10143),
                       ("127.0.0.1", 10110), isolation="per-connection",
                       map_file="/x/popmap.re")
    lines = text.splitlines()
    assert "isolation per-connection" in lines
    assert "listen imap on 127.0.0.1 port 1143" in lines
    assert "server pop3 127.0.0.1 port 10110" in lines
    assert 'map regex "/x/popmap.re" key "\\U"' in lines
