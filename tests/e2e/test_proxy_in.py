# Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
#
# Inbound PROXY protocol (listen ... proxy-protocol, proxy-trusted): a
# load balancer's v1/v2 header names the client, and that address is the
# client everywhere (log, per-address limit, forwarding to the backend).
# Untrusted peers and bad headers are closed without a greeting, and the
# daemon keeps serving.  The backend is the session's real Dovecot, a
# Dovecot that trusts bailey's ID, or a scripted one; one test puts a real
# haproxy (send-proxy-v2) in front.  Runs in the pytest process on
# loopback only; everything started is stopped by PID at teardown.

import imaplib
import ipaddress
import os
import poplib
import re
import shutil
import socket
import ssl
import struct
import subprocess
import tempfile
import time

import pytest

from bailey_harness import HOST, free_port
from dovecot import TrustingDovecot, wait_port
from rawclient import wait_for

HERE = os.path.dirname(os.path.abspath(__file__))
MKCERTS = os.path.join(HERE, "..", "tls", "mkcerts.sh")
PP2_SIG = b"\r\n\r\n\x00\r\nQUIT\n"
FWD_USER, FWD_PASS = "ppuser", "Pp-pass-1"


def v1(src, dst, sport=40000, dport=143):
    fam = "TCP6" if ":" in src else "TCP4"
    return ("PROXY %s %s %s %d %d\r\n" % (fam, src, dst, sport,
                                          dport)).encode()


def v2(src, dst, sport=40000, dport=143, cmd=1, fam=None, tlvs=b""):
    s, d = ipaddress.ip_address(src), ipaddress.ip_address(dst)
    if fam is None:
        fam = 0x21 if s.version == 6 else 0x11
    body = s.packed + d.packed + struct.pack(">HH", sport, dport) + tlvs
    return PP2_SIG + bytes([0x20 | cmd, fam]) + \
        struct.pack(">H", len(body)) + body


def connect(port, source=None, timeout=5):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    if source:
        s.bind((source, 0))
    s.connect((HOST, port))
    return s


def read_line(s):
    buf = b""
    while not buf.endswith(b"\n"):
        c = s.recv(1)
        if not c:
            break
        buf += c
    return buf


def closed_silently(s, timeout=6):
    """True if the peer closes without sending a byte."""
    s.settimeout(timeout)
    try:
        data = s.recv(4096)
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False
    return data == b""


class ProxiedIMAP4(imaplib.IMAP4):
    """imaplib with a PROXY header written before anything else."""

    def __init__(self, port, header, source=None):
        self._pp_header, self._pp_source = header, source
        super().__init__(HOST, port, timeout=10)

    def _create_socket(self, timeout):
        s = connect(self.port, self._pp_source, timeout)
        s.sendall(self._pp_header)
        return s


class ProxiedIMAP4SSL(imaplib.IMAP4_SSL):
    """The header, then the TLS ClientHello on the same connection."""

    def __init__(self, port, header, ctx):
        self._pp_header = header
        super().__init__(HOST, port, ssl_context=ctx, timeout=10)

    def _create_socket(self, timeout):
        s = connect(self.port, None, timeout)
        s.sendall(self._pp_header)
        return self.ssl_context.wrap_socket(s, server_hostname=self.host)


class ProxiedPOP3(poplib.POP3):
    def __init__(self, port, header):
        self._pp_header = header
        super().__init__(HOST, port, timeout=10)

    def _create_socket(self, timeout):
        s = connect(self.port, None, timeout)
        s.sendall(self._pp_header)
        return s


def imap_login(port, header, mb, source=None):
    m = ProxiedIMAP4(port, header, source)
    try:
        assert m.login(mb.user, mb.password)[0] == "OK"
        assert m.select("INBOX")[0] == "OK"
    finally:
        m.logout()


def end_line(b, client, reason=None):
    """Waits for the session end line of `client` (addr, no port)."""
    rx = r"client=%s:\d+ user=.* reason=%s proxy=127\.0\.0\.1:\d+" % (
        re.escape(client), re.escape(reason) if reason else r"\S+")
    return b.wait_log(rx)[-1]


@pytest.fixture(scope="module")
def certs(state_root):
    d = tempfile.mkdtemp(prefix="certs.", dir=state_root)
    os.chmod(d, 0o755)
    subprocess.run(["sh", MKCERTS, d], check=True, capture_output=True,
                   timeout=120)
    return d


@pytest.fixture
def pp_bailey(bailey_factory, certs, isolation):
    """The harness's plain listeners (for its readiness check) plus
    proxy-protocol listeners: imap (v1+v2), pop3, imap v1 only, imaps."""
    ports = {k: free_port() for k in ("imap", "pop3", "imap_v1", "imaps")}
    extra = (
        'certificate "%s/ec.pem" key "%s/ec.key"\n' % (certs, certs) +
        "proxy-trusted 127.0.0.1 10.0.0.0/8\n"
        "listen imap on 127.0.0.1 port %(imap)d proxy-protocol\n"
        "listen pop3 on 127.0.0.1 port %(pop3)d proxy-protocol v2\n"
        "listen imap on 127.0.0.1 port %(imap_v1)d proxy-protocol v1\n"
        "listen imap on 127.0.0.1 port %(imaps)d tls implicit "
        "proxy-protocol\n"
        "timeout handshake 2\n" % ports)
    b = bailey_factory(isolation=isolation, extra=extra)
    b.pp = ports
    return b


# ---- good headers ---------------------------------------------------

@pytest.mark.parametrize("header,client", [
    (v1("192.0.2.77", "10.1.2.3"), "192.0.2.77"),
    (v1("2001:db8::42", "2001:db8::1"), "2001:db8::42"),
    (v2("198.51.100.9", "10.1.2.3"), "198.51.100.9"),
    (v2("2001:db8:7::9", "2001:db8::1"), "2001:db8:7::9"),
    (v2("203.0.113.5", "10.1.2.3", tlvs=b"\x01\x00\x04imap\x04\x00\x00"),
     "203.0.113.5"),
], ids=["v1-tcp4", "v1-tcp6", "v2-tcp4", "v2-tcp6", "v2-tlvs"])
def test_login_with_header(pp_bailey, mailbox, header, client):
    imap_login(pp_bailey.pp["imap"], header, mailbox)
    line = end_line(pp_bailey, client)
    assert "user=%s" % mailbox.user in line
    assert pp_bailey.loggrep(r"client=%s:40000 proxy=127\.0\.0\.1:\d+ "
                             r"event=proxy version=%d" % (
                                 re.escape(client), 1 if header[0] == 0x50
                                 else 2))
    assert pp_bailey.loggrep(r"client=%s:40000 event=auth-ok" %
                             re.escape(client))


def test_pop3_v2_and_local(pp_bailey, mailbox):
    p = ProxiedPOP3(pp_bailey.pp["pop3"], v2("192.0.2.55", "10.1.2.3"))
    p.user(mailbox.user)
    assert p.pass_(mailbox.password).startswith(b"+OK")
    p.quit()
    end_line(pp_bailey, "192.0.2.55")
    # LOCAL (a health check): the socket's own address stands.
    p = ProxiedPOP3(pp_bailey.pp["pop3"], PP2_SIG + b"\x20\x00\x00\x00")
    p.user(mailbox.user)
    assert p.pass_(mailbox.password).startswith(b"+OK")
    p.quit()
    assert pp_bailey.wait_log(r"client=127\.0\.0\.1:\d+ proxy=127\.0\.0\.1:"
                              r"\d+ event=proxy version=2 local=yes")


def test_v1_unknown_keeps_socket_address(pp_bailey, mailbox):
    imap_login(pp_bailey.pp["imap"], b"PROXY UNKNOWN\r\n", mailbox)
    pp_bailey.wait_log(r"client=127\.0\.0\.1:\d+ user=%s .*reason=\S+ "
                       r"proxy=127\.0\.0\.1:" % re.escape(mailbox.user))


def test_header_in_pieces_with_pauses(pp_bailey, mailbox):
    for header in (v1("192.0.2.31", "10.1.2.3"), v2("192.0.2.32",
                                                    "10.1.2.3")):
        s = connect(pp_bailey.pp["imap"])
        for i in range(0, len(header), 7):
            s.sendall(header[i:i + 7])
            time.sleep(0.15)
        assert read_line(s).startswith(b"* OK")
        s.sendall(b"a LOGIN %s %s\r\n" % (mailbox.user.encode(),
                                          mailbox.password.encode()))
        line = read_line(s)
        while line.startswith(b"*"):
            line = read_line(s)
        assert line.startswith(b"a OK"), line
        s.close()
    end_line(pp_bailey, "192.0.2.31")
    end_line(pp_bailey, "192.0.2.32")


def test_header_and_pipelined_command_in_one_segment(pp_bailey):
    s = connect(pp_bailey.pp["imap"])
    s.sendall(v2("192.0.2.40", "10.1.2.3") + b"a CAPABILITY\r\nb LOGOUT\r\n")
    got = b""
    while b"b OK" not in got:
        data = s.recv(4096)
        if not data:
            break
        got += data
    s.close()
    assert got.startswith(b"* OK"), got
    assert b"* CAPABILITY IMAP4rev1" in got and b"a OK" in got, got
    end_line(pp_bailey, "192.0.2.40", "logout")


def test_implicit_tls_header_before_client_hello(pp_bailey, certs, mailbox):
    ctx = ssl.create_default_context(cafile=os.path.join(certs, "ca.pem"))
    m = ProxiedIMAP4SSL(pp_bailey.pp["imaps"], v1("192.0.2.90", "10.1.2.3",
                                                  dport=993), ctx)
    try:
        assert m.login(mailbox.user, mailbox.password)[0] == "OK"
    finally:
        m.logout()
    end_line(pp_bailey, "192.0.2.90")


# ---- refused ---------------------------------------------------------

def test_untrusted_peer_gets_nothing(bailey_factory, hostile_backend,
                                     mailbox):
    hb = hostile_backend([("send", b"* OK hi\r\n"), ("hold",)])
    port, port2 = free_port(), free_port()
    b = bailey_factory(extra=(
        "proxy-trusted 127.0.0.1\n"
        "server imap 127.0.0.1 port %d\n"
        "listen imap on 127.0.0.1 port %d proxy-protocol\n"
        % (hb.port, port)))
    s = connect(port, source="127.0.0.2")
    s.sendall(v1("192.0.2.1", "10.1.2.3") + b"a LOGIN u p\r\n")
    assert closed_silently(s)
    s.close()
    b.wait_log(r"client=127\.0\.0\.2:\d+ event=proxy-untrusted refused=1")
    b.wait_log(r"client=127\.0\.0\.2:\d+ user=- .*reason=proxy-untrusted")
    # A trusted list without 127.0.0.1 at all.
    b2 = bailey_factory(extra=(
        "proxy-trusted 192.0.2.0/24 2001:db8::/32\n"
        "server imap 127.0.0.1 port %d\n"
        "listen imap on 127.0.0.1 port %d proxy-protocol\n"
        % (hb.port, port2)))
    s = connect(port2)
    s.sendall(v2("192.0.2.1", "10.1.2.3"))
    assert closed_silently(s)
    s.close()
    b2.wait_log(r"client=127\.0\.0\.1:\d+ .*reason=proxy-untrusted")
    # Neither refused connection reached the backend.
    assert hb.connections == 0
    assert b.alive() and b2.alive()


@pytest.mark.parametrize("data,error", [
    (b"PROXY TCP4 192.0.2.1 10.1.2.3 0400 143\r\n",
     "v1: port with a leading zero"),
    (b"PROXY TCP4 192.0.2.1 10.1.2.3 40000 143\n",
     "v1: bad character in a field"),
    (b"PROXY UNKNOWN " + b"x" * 100 + b"\r\n",
     "v1: line longer than 107 bytes"),
    (PP2_SIG + b"\x21\x11\x04\x01" + b"\x00" * 1025,
     "v2: header longer than 1024 bytes"),
    (PP2_SIG + b"\x21\x31\x00\xd8" + b"\x00" * 216, "v2: AF_UNIX refused"),
    (PP2_SIG + b"\x21\x12\x00\x0c" + b"\x00" * 12,
     "v2: datagram transport refused"),
    (b"a LOGIN user pass\r\n", "not a PROXY protocol header"),
], ids=["v1-port", "v1-lf", "v1-long", "v2-long", "v2-unix", "v2-udp",
        "no-header"])
def test_bad_header_closed_then_daemon_serves(pp_bailey, mailbox, data,
                                              error):
    s = connect(pp_bailey.pp["imap"])
    s.sendall(data)
    assert closed_silently(s)
    s.close()
    pp_bailey.wait_log(r'event=proxy-error error="%s"' % re.escape(error))
    pp_bailey.wait_log(r"reason=proxy-malformed proxy=127\.0\.0\.1:")
    imap_login(pp_bailey.pp["imap"], v1("192.0.2.200", "10.1.2.3"), mailbox)
    end_line(pp_bailey, "192.0.2.200")


def test_version_not_accepted(pp_bailey):
    s = connect(pp_bailey.pp["imap_v1"])
    s.sendall(v2("192.0.2.1", "10.1.2.3"))
    assert closed_silently(s)
    s.close()
    pp_bailey.wait_log(r'error="PROXY v2 not accepted on this listener"')


def test_truncated_header_times_out(pp_bailey, mailbox):
    s = connect(pp_bailey.pp["imap"])
    s.sendall(v2("192.0.2.1", "10.1.2.3")[:20])
    t0 = time.monotonic()
    assert closed_silently(s, timeout=8)
    assert time.monotonic() - t0 < 6           # timeout handshake 2
    s.close()
    pp_bailey.wait_log(r"reason=proxy-timeout proxy=127\.0\.0\.1:")
    # Closed mid-header: also clean.
    s = connect(pp_bailey.pp["imap"])
    s.sendall(b"PROXY TCP4 192.0.2.1")
    s.close()
    pp_bailey.wait_log(r'error="connection closed inside the header"')
    imap_login(pp_bailey.pp["imap"], v2("192.0.2.201", "10.1.2.3"), mailbox)
    end_line(pp_bailey, "192.0.2.201")


# ---- the header's address everywhere ---------------------------------

def test_per_ip_limit_counts_the_header_address(bailey_factory):
    port = free_port()
    b = bailey_factory(extra=(
        "max-connections-per-ip 1\n"
        "proxy-trusted 127.0.0.1\n"
        "listen imap on 127.0.0.1 port %d proxy-protocol\n" % port))
    a = connect(port)
    a.sendall(v1("10.9.1.1", "10.1.2.3"))
    assert read_line(a).startswith(b"* OK")
    c = connect(port)
    c.sendall(v2("10.9.2.2", "10.1.2.3"))
    assert read_line(c).startswith(b"* OK")
    d = connect(port)
    d.sendall(v2("10.9.1.1", "10.1.2.3", sport=40001))
    assert read_line(d).startswith(b"* BYE")
    assert closed_silently(d)
    b.wait_log(r"client=10\.9\.1\.1:40001 .*reason=too-many-from-address "
               r"proxy=127\.0\.0\.1:")
    for s in (a, c, d):
        s.close()
    # Once the first one is gone, its address may connect again.
    b.wait_log(r"client=10\.9\.1\.1:40000 .*reason=client-eof")
    e = connect(port)
    e.sendall(v1("10.9.1.1", "10.1.2.3", sport=40002))
    assert read_line(e).startswith(b"* OK")
    e.close()


@pytest.fixture(scope="module")
def trusting_dovecot(state_root):
    root = tempfile.mkdtemp(prefix="dovecot-pp.", dir=state_root)
    os.chmod(root, 0o755)
    dc = TrustingDovecot(root, free_port(), free_port(),
                         users={FWD_USER: FWD_PASS})
    dc.start()
    yield dc
    dc.stop()


def test_forward_id_carries_the_header_address(bailey_factory,
                                               trusting_dovecot):
    dc = trusting_dovecot
    port = free_port()
    b = bailey_factory(imap_backend=None, pop3_backend=None, extra=(
        "proxy-trusted 127.0.0.1\n"
        "server imap 127.0.0.1 port %d forward id\n"
        "listen imap on 127.0.0.1 port %d proxy-protocol\n"
        % (dc.imap_port, port)))
    m = ProxiedIMAP4(port, v2("192.0.2.123", "10.1.2.3"))
    assert m.login(FWD_USER, FWD_PASS)[0] == "OK"
    m.logout()
    assert wait_for(lambda: "rip=192.0.2.123" in dc.log_text(), 5), \
        dc.log_text()[-2000:]
    end_line(b, "192.0.2.123")


def test_proxy_out_carries_header_addresses(bailey_factory, hostile_backend):
    """forward proxy-v1 towards the backend: the header's source and
    destination, not the balancer's connection."""
    hb = hostile_backend([
        ("expect", rb"^PROXY TCP4 192\.0\.2\.66 10\.1\.2\.3 41000 1143\r?$"),
        ("send", b"* OK hi\r\n"), ("expect", rb"^B1 LOGIN"),
        ("send", b"B1 OK in\r\n"), ("hold",)])
    port = free_port()
    b = bailey_factory(imap_backend=None, pop3_backend=None, extra=(
        "proxy-trusted 127.0.0.1\n"
        "server imap 127.0.0.1 port %d forward proxy-v1\n"
        "listen imap on 127.0.0.1 port %d proxy-protocol\n"
        % (hb.port, port)))
    s = connect(port)
    s.sendall(v1("192.0.2.66", "10.1.2.3", 41000, 1143))
    assert read_line(s).startswith(b"* OK")
    s.sendall(b"a LOGIN bob pw\r\n")
    assert read_line(s).startswith(b"a OK"), hb.received
    s.close()
    end_line(b, "192.0.2.66")


def test_pbsd_hears_the_header_address(bailey_factory, mailbox):
    from pbsd_fixtures import Pbsd, make_tmpdir
    root = make_tmpdir("bailey-pbsd-pp.")
    p = Pbsd(os.path.join(root, "pbsd"), expire=60).start()
    try:
        port = free_port()
        bailey_factory(extra=(
            'pbsd socket "%s"\n' % p.sock +
            "proxy-trusted 127.0.0.1\n"
            "listen imap on 127.0.0.1 port %d proxy-protocol\n" % port))
        imap_login(port, v2("192.0.2.150", "10.1.2.3"), mailbox)

        def listed():
            rc, out, _ = p.ctl("list")
            return rc == 0 and "192.0.2.150" in out

        p.wait_for(listed, timeout=5, what="the header's address in pbsd")
        rc, out, _ = p.ctl("list")
        assert "127.0.0.1" not in out, out
        # A LOCAL header (v2) and UNKNOWN (v1) carry no client: a login
        # under them must not grant the balancer (127.0.0.1) relay.
        imap_login(port, PP2_SIG + b"\x20\x00\x00\x00", mailbox)
        imap_login(port, b"PROXY UNKNOWN\r\n", mailbox)
        imap_login(port, v1("192.0.2.151", "10.1.2.3"), mailbox)

        def second():
            rc, out, _ = p.ctl("list")
            return rc == 0 and "192.0.2.151" in out

        # The later header login is listed; give any straggler from the
        # two earlier ones time to arrive too.
        p.wait_for(second, timeout=5, what="the second header address")
        time.sleep(0.5)
        rc, out, _ = p.ctl("list")
        assert "127.0.0.1" not in out, out
    finally:
        p.stop()
        shutil.rmtree(root, ignore_errors=True)


# ---- a real haproxy in front -------------------------------------------

def test_haproxy_send_proxy_v2(bailey_factory, mailbox, state_root):
    exe = shutil.which("haproxy")
    if exe is None:
        pytest.skip("haproxy is not installed (scripts/deps.sh installs it)")
    port, hport = free_port(), free_port()
    b = bailey_factory(extra=(
        "proxy-trusted 127.0.0.1\n"
        "listen imap on 127.0.0.1 port %d proxy-protocol v2\n" % port))
    d = tempfile.mkdtemp(prefix="haproxy.", dir=state_root)
    cfg = os.path.join(d, "haproxy.cfg")
    with open(cfg, "w") as f:
        f.write("global\n"
                "    maxconn 64\n"
                "defaults\n"
                "    mode tcp\n"
                "    timeout connect 5s\n"
                "    timeout client 30s\n"
                "    timeout server 30s\n"
                "frontend fe\n"
                "    bind 127.0.0.1:%d\n"
                "    default_backend be\n"
                "backend be\n"
                "    server bailey 127.0.0.1:%d send-proxy-v2\n"
                % (hport, port))
    log = open(os.path.join(d, "haproxy.log"), "wb")
    proc = subprocess.Popen([exe, "-db", "-f", cfg], stdin=subprocess.DEVNULL,
                            stdout=log, stderr=log, start_new_session=True)
    try:
        wait_port(HOST, hport, 10, proc)
        # The client connects to haproxy from 127.0.0.3.
        m = ProxiedIMAP4(hport, b"", source="127.0.0.3")
        try:
            assert m.login(mailbox.user, mailbox.password)[0] == "OK"
            assert m.select("INBOX")[0] == "OK"
        finally:
            m.logout()
        line = end_line(b, "127.0.0.3")
        assert "user=%s" % mailbox.user in line
        assert b.loggrep(r"client=127\.0\.0\.3:\d+ proxy=127\.0\.0\.1:\d+ "
                         r"event=proxy version=2")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
