# Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
#
# The client's address reaches the backend: IMAP ID x-originating-ip/port
# and POP3 XCLIENT ADDR/PORT (per server, "forward id|xclient").  A real
# Dovecot that trusts bailey's network logs the client's address, not
# bailey's; scripted backends check the exact lines and that nothing is
# sent where it is not offered.

import os
import socket
import tempfile

import pytest

from bailey_harness import HOST, free_port
from dovecot import TrustingDovecot
from rawclient import wait_for

CLIENT_IP = "127.0.0.5"         # not bailey's own 127.0.0.1
USER, PASS = "fwduser", "Fwd-pass-1"


@pytest.fixture(scope="module")
def trusting_dovecot(state_root):
    root = tempfile.mkdtemp(prefix="dovecot-trust.", dir=state_root)
    os.chmod(root, 0o755)
    dc = TrustingDovecot(root, free_port(), free_port(),
                         users={USER: PASS})
    dc.start()
    yield dc
    dc.stop()


def lines_from(port, send, expect_end):
    """Connects from CLIENT_IP, sends each line after the previous reply."""
    s = socket.socket()
    s.bind((CLIENT_IP, 0))
    s.settimeout(10)
    s.connect((HOST, port))
    f = s.makefile("rwb")
    out = [f.readline()]
    for ln in send:
        f.write(ln)
        f.flush()
        out.append(f.readline())
    s.close()
    assert out[-1].startswith(expect_end), out
    return out


def test_dovecot_sees_the_client_address(bailey_factory, trusting_dovecot):
    dc = trusting_dovecot
    b = bailey_factory(imap_backend=None, pop3_backend=None, extra=(
        "server imap 127.0.0.1 port %d forward id\n"
        "server pop3 127.0.0.1 port %d forward xclient\n"
        % (dc.imap_port, dc.pop3_port)))
    lines_from(b.imap_port, [b"a LOGIN %s %s\r\n" % (USER.encode(),
                                                     PASS.encode())], b"a OK")
    lines_from(b.pop3_port, [b"USER %s\r\n" % USER.encode(),
                             b"PASS %s\r\n" % PASS.encode()], b"+OK")
    rx = "rip=%s" % CLIENT_IP
    assert wait_for(lambda: dc.log_text().count(rx) >= 2, 5), \
        dc.log_text()[-2000:]


def test_without_forward_dovecot_sees_bailey(bailey_factory,
                                             trusting_dovecot):
    dc = trusting_dovecot
    before = dc.log_text().count("rip=%s" % CLIENT_IP)
    b = bailey_factory(imap_backend=(HOST, dc.imap_port), pop3_backend=None)
    lines_from(b.imap_port, [b"a LOGIN %s %s\r\n" % (USER.encode(),
                                                     PASS.encode())], b"a OK")
    assert wait_for(lambda: "rip=127.0.0.1" in dc.log_text(), 5)
    assert dc.log_text().count("rip=%s" % CLIENT_IP) == before


def test_imap_id_line_exact(bailey_factory, hostile_backend):
    hb = hostile_backend([
        ("send", b"* OK [CAPABILITY IMAP4rev1 ID] hi\r\n"),
        ("expect", rb"^B2 ID \(\"x-originating-ip\" \"127\.0\.0\.5\" "
                   rb"\"x-originating-port\" \"\d+\" "
                   rb"\"x-session-id\" \"[0-9a-f]{16}\"\)\r?$"),
        ("expect", rb"^B1 LOGIN"),
        ("send", b"B2 OK ID done\r\nB1 OK in\r\n"), ("hold",)])
    b = bailey_factory(imap_backend=None, pop3_backend=None, extra=(
        "server imap 127.0.0.1 port %d forward id\n" % hb.port))
    out = lines_from(b.imap_port, [b"a LOGIN bob pw\r\n"], b"a OK")
    assert out[-1] == b"a OK in\r\n"


@pytest.mark.parametrize("offered", [True, False])
def test_pop3_xclient_only_where_offered(bailey_factory, hostile_backend,
                                         offered):
    capa = b"+OK\r\nUSER\r\n" + (b"XCLIENT\r\n" if offered else b"") + \
        b".\r\n"
    script = [("send", b"+OK hi\r\n"), ("expect", rb"^CAPA"),
              ("send", capa)]
    if offered:
        script += [("expect", rb"^XCLIENT ADDR=127\.0\.0\.5 PORT=\d+\r?$"),
                   ("send", b"+OK\r\n")]
    script += [("expect", rb"^USER bob"), ("send", b"+OK\r\n"),
               ("expect", rb"^PASS pw"), ("send", b"+OK in\r\n"), ("hold",)]
    hb = hostile_backend(script)
    b = bailey_factory(imap_backend=None, pop3_backend=None, extra=(
        "server pop3 127.0.0.1 port %d forward xclient\n" % hb.port))
    lines_from(b.pop3_port, [b"USER bob\r\n", b"PASS pw\r\n"], b"+OK in")
    assert (b"XCLIENT" in b"".join(hb.received)) == offered


def test_proxy_v1_header(bailey_factory, hostile_backend):
    hb = hostile_backend([
        ("expect", rb"^PROXY TCP4 127\.0\.0\.5 127\.0\.0\.1 \d+ \d+\r?$"),
        ("send", b"* OK hi\r\n"), ("expect", rb"^B1 LOGIN"),
        ("send", b"B1 OK in\r\n"), ("hold",)])
    b = bailey_factory(imap_backend=None, pop3_backend=None, extra=(
        "server imap 127.0.0.1 port %d forward proxy-v1\n" % hb.port))
    lines_from(b.imap_port, [b"a LOGIN bob pw\r\n"], b"a OK")
    first = hb.received[0].split(b"\r\n")[0].split()
    assert int(first[5]) == b.imap_port           # the port it reached


def test_proxy_v2_header(bailey_factory, hostile_backend):
    hb = hostile_backend([("read", 28), ("send", b"* OK hi\r\n"),
                          ("expect", rb"^B1 LOGIN"),
                          ("send", b"B1 OK in\r\n"), ("hold",)])
    b = bailey_factory(imap_backend=None, pop3_backend=None, extra=(
        "server imap 127.0.0.1 port %d forward proxy-v2\n" % hb.port))
    lines_from(b.imap_port, [b"a LOGIN bob pw\r\n"], b"a OK")
    h = hb.received[0][:28]
    assert h[:12] == b"\r\n\r\n\x00\r\nQUIT\n"
    assert h[12] == 0x21 and h[13] == 0x11 and h[14:16] == b"\x00\x0c"
    assert h[16:20] == bytes([127, 0, 0, 5])      # the client
    assert h[20:24] == bytes([127, 0, 0, 1])      # where it connected
    assert int.from_bytes(h[26:28], "big") == b.imap_port


@pytest.mark.parametrize("rules,sent,seen", [
    ("username lowercase\nusername strip-domain\n", b"Bob@Example.COM",
     b'"bob"'),
    ("username add-domain example.net\n", b"alice", b'"alice@example.net"'),
    ("username add-domain example.net\n", b"carol@x", b'"carol@x"'),
    ("username lowercase\n", b"%U\\\\u", b'"%u\\\\u"'),
])
def test_username_rewriting(bailey_factory, hostile_backend, rules, sent,
                            seen):
    hb = hostile_backend([("send", b"* OK hi\r\n"), ("expect", rb"^B1 LOGIN"),
                          ("send", b"B1 OK in\r\n"), ("hold",)])
    b = bailey_factory(imap_backend=hb.address, extra=rules)
    lines_from(b.imap_port, [b'a LOGIN "' + sent + b'" pw\r\n'], b"a OK")
    assert b"B1 LOGIN " + seen + b' "pw"' in hb.received[0], hb.received
