# Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
#
# TLS through bailey with real clients (curl, python ssl, openssl
# s_client) on every inbound mode, and towards a real Dovecot with TLS
# (implicit and STARTTLS) with certificate checks; plus the TLS rows of
# shared/research/threats.md (test_rowN_*).  Certificates are made at run
# time by tests/tls/mkcerts.sh.

import imaplib
import os
import poplib
import re
import secrets
import socket
import ssl
import subprocess
import tempfile
import time

import pytest

from bailey_harness import HOST, build_dir, child_roles, free_port
from conftest import make_message
from dovecot import Dovecot
from rawclient import Raw, b64, wait_for

HERE = os.path.dirname(os.path.abspath(__file__))
MKCERTS = os.path.join(HERE, "..", "tls", "mkcerts.sh")
TLS_USER, TLS_PASS = "tlsuser", "Tls-" + secrets.token_hex(6)


@pytest.fixture(scope="module")
def certs(state_root):
    d = tempfile.mkdtemp(prefix="certs.", dir=state_root)
    os.chmod(d, 0o755)
    subprocess.run(["sh", MKCERTS, d], check=True, capture_output=True,
                   timeout=120)
    return d


def cert(certs, name):
    return os.path.join(certs, name)


@pytest.fixture(scope="module")
def tls_dovecot(state_root, certs):
    """A Dovecot with TLS: STARTTLS/STLS on its plain ports, implicit TLS
    on its imaps/pop3s ports; certificate ec.pem (localhost, 127.0.0.1)."""
    root = tempfile.mkdtemp(prefix="dovecot-tls.", dir=state_root)
    os.chmod(root, 0o755)
    dc = Dovecot(root, free_port(), free_port(), users={TLS_USER: TLS_PASS},
                 tls={"cert": cert(certs, "ec.pem"),
                      "key": cert(certs, "ec.key"),
                      "imaps_port": free_port(), "pop3s_port": free_port()})
    dc.start()
    dc.deliver(TLS_USER, make_message(1, subject="over tls"))
    yield dc
    dc.stop()


def tls_conf(certs, extra=""):
    return ('certificate "%s" key "%s"\n' % (cert(certs, "ec.pem"),
                                             cert(certs, "ec.key")) + extra)


@pytest.fixture
def tls_bailey(bailey_factory, certs, isolation):
    """bailey with every inbound TLS mode, plain backends (the shared
    Dovecot)."""
    ports = {k: free_port() for k in ("imaps", "pop3s", "imap_req",
                                      "pop3_req")}
    extra = tls_conf(certs) + (
        "listen imap on 127.0.0.1 port %(imaps)d tls implicit\n"
        "listen pop3 on 127.0.0.1 port %(pop3s)d tls implicit\n"
        "listen imap on 127.0.0.1 port %(imap_req)d tls required\n"
        "listen pop3 on 127.0.0.1 port %(pop3_req)d tls required\n"
        "timeout handshake 2\n" % ports)
    b = bailey_factory(isolation=isolation, extra=extra)
    b.tls_ports = ports
    # The harness's plain listeners get STARTTLS through a second
    # instance below; here the plain ones stay plain.
    return b


@pytest.fixture
def starttls_bailey(bailey_factory, certs):
    """bailey whose standard listeners offer STARTTLS/STLS."""
    imap, pop3 = free_port(), free_port()
    extra = tls_conf(certs) + (
        "listen imap on 127.0.0.1 port %d tls starttls\n"
        "listen pop3 on 127.0.0.1 port %d tls starttls\n"
        "timeout handshake 2\n" % (imap, pop3))
    b = bailey_factory(extra=extra)
    b.st_imap, b.st_pop3 = imap, pop3
    return b


def client_ctx(certs):
    ctx = ssl.create_default_context(cafile=cert(certs, "ca.pem"))
    return ctx


def curl(args):
    return subprocess.run(["curl", "-sS", "--max-time", "20"] + args,
                          capture_output=True, timeout=60)


# ---- inbound: every mode, real clients ------------------------------

def test_curl_imaps_pop3s(tls_bailey, certs, filled_mailbox):
    mb, p = filled_mailbox, tls_bailey.tls_ports
    r = curl(["--cacert", cert(certs, "ca.pem"), "-u",
              "%s:%s" % (mb.user, mb.password),
              "imaps://localhost:%d/INBOX;UID=1" % p["imaps"]])
    assert r.returncode == 0, r.stderr
    assert r.stdout == mb.delivered[0]
    r = curl(["--cacert", cert(certs, "ca.pem"), "-u",
              "%s:%s" % (mb.user, mb.password),
              "pop3s://localhost:%d/1" % p["pop3s"]])
    assert r.returncode == 0, r.stderr
    assert r.stdout == mb.delivered[0]


def test_curl_ssl_reqd_starttls(starttls_bailey, certs, filled_mailbox):
    mb, b = filled_mailbox, starttls_bailey
    r = curl(["--ssl-reqd", "--cacert", cert(certs, "ca.pem"), "-u",
              "%s:%s" % (mb.user, mb.password),
              "imap://localhost:%d/INBOX;UID=2" % b.st_imap])
    assert r.returncode == 0, r.stderr
    assert r.stdout == mb.delivered[1]
    r = curl(["--ssl-reqd", "--cacert", cert(certs, "ca.pem"), "-u",
              "%s:%s" % (mb.user, mb.password),
              "pop3://localhost:%d/2" % b.st_pop3])
    assert r.returncode == 0, r.stderr
    assert r.stdout == mb.delivered[1]


def test_python_imap4_ssl_and_starttls(tls_bailey, starttls_bailey, certs,
                                       filled_mailbox):
    mb = filled_mailbox
    m = imaplib.IMAP4_SSL(HOST, tls_bailey.tls_ports["imaps"],
                          ssl_context=client_ctx(certs), timeout=10)
    m.login(mb.user, mb.password)
    typ, data = m.select("INBOX")
    assert typ == "OK" and data == [b"3"]
    typ, data = m.fetch("1", "(BODY.PEEK[])")
    assert data[0][1] == mb.delivered[0]
    m.logout()
    m = imaplib.IMAP4(HOST, starttls_bailey.st_imap, timeout=10)
    assert "STARTTLS" in m.capabilities
    m.starttls(ssl_context=client_ctx(certs))
    assert "STARTTLS" not in m.capabilities      # re-read after TLS
    m.login(mb.user, mb.password)
    assert m.select("INBOX")[0] == "OK"
    m.logout()


def test_python_pop3_ssl_and_stls(tls_bailey, starttls_bailey, certs,
                                  filled_mailbox):
    mb = filled_mailbox
    p = poplib.POP3_SSL(HOST, tls_bailey.tls_ports["pop3s"],
                        context=client_ctx(certs), timeout=10)
    p.user(mb.user)
    p.pass_(mb.password)
    assert p.stat()[0] == 3
    # poplib undoes the dot-stuffing: the message comes back as sent.
    assert b"\r\n".join(p.retr(1)[1]) + b"\r\n" == mb.delivered[0]
    p.quit()
    p = poplib.POP3(HOST, starttls_bailey.st_pop3, timeout=10)
    assert "STLS" in p.capa()
    p.stls(context=client_ctx(certs))
    assert "STLS" not in p.capa()
    p.user(mb.user)
    p.pass_(mb.password)
    assert p.stat()[0] == 3
    p.quit()


@pytest.mark.parametrize("ver,proto", [("-tls1_3", "TLSv1.3"),
                                       ("-tls1_2", "TLSv1.2")])
def test_openssl_versions(tls_bailey, starttls_bailey, certs, ver, proto):
    for args in (["-connect", "%s:%d" % (HOST, tls_bailey.tls_ports["imaps"])],
                 ["-connect", "%s:%d" % (HOST, starttls_bailey.st_imap),
                  "-starttls", "imap"],
                 ["-connect", "%s:%d" % (HOST, starttls_bailey.st_pop3),
                  "-starttls", "pop3"]):
        r = subprocess.run(["openssl", "s_client", ver, "-CAfile",
                            cert(certs, "ca.pem"), "-verify_return_error",
                            "-brief"] + args, input=b"", capture_output=True,
                           timeout=30)
        out = r.stdout + r.stderr
        assert ("Protocol version: %s" % proto).encode() in out, out


def test_tls10_refused(tls_bailey, certs):
    r = subprocess.run(["openssl", "s_client", "-tls1_1", "-connect",
                        "%s:%d" % (HOST, tls_bailey.tls_ports["imaps"])],
                       input=b"", capture_output=True, timeout=30)
    assert b"Protocol version: TLSv1.1" not in r.stdout + r.stderr
    assert r.returncode != 0


def test_sni_picks_certificate(bailey_factory, certs):
    port = free_port()
    extra = ('certificate "%s" key "%s"\ncertificate "%s" key "%s"\n'
             'listen imap on 127.0.0.1 port %d tls implicit\n'
             % (cert(certs, "ec.pem"), cert(certs, "ec.key"),
                cert(certs, "mail.pem"), cert(certs, "mail.key"), port))
    bailey_factory(extra=extra)
    for sni, want in (("mail.example.test", "mail.example.test"),
                      ("x.wild.test", "mail.example.test"),
                      ("localhost", "localhost"),
                      (None, "localhost"),
                      ("unknown.example", "localhost")):
        args = ["openssl", "s_client", "-connect", "%s:%d" % (HOST, port),
                "-showcerts"]
        args += ["-servername", sni] if sni else ["-noservername"]
        r = subprocess.run(args, input=b"", capture_output=True, timeout=30)
        m = re.search(rb"subject=.*?CN ?= ?([^\s,/]+)", r.stdout)
        assert m and m.group(1).decode() == want, (sni, r.stdout[:400])


def test_row39_no_compress_before_login(tls_bailey, starttls_bailey):
    for port in (tls_bailey.imap_port, starttls_bailey.st_imap,
                 tls_bailey.tls_ports["imap_req"]):
        r = Raw(port)
        out = r.cmd(b"a CAPABILITY\r\n", rb"^a ")
        assert b"COMPRESS" not in b"".join(out) + r.greeting
        r.close()


# ---- STARTTLS state and injection ------------------------------------

def tls_wrap(raw, certs):
    """Upgrades a Raw connection to TLS (after STARTTLS/STLS's OK)."""
    assert raw.buf == b"", raw.buf
    raw.sock = client_ctx(certs).wrap_socket(raw.sock,
                                             server_hostname="localhost")
    return raw


def test_row5_starttls_where_not_offered(tls_bailey, starttls_bailey, certs):
    r = Raw(tls_bailey.imap_port)                  # plain listener
    assert r.cmd(b"a STARTTLS\r\n", rb"^a ")[-1].startswith(b"a BAD")
    r.close()
    r = Raw(tls_bailey.pop3_port)
    assert r.cmd(b"STLS\r\n", rb"^[+-]")[-1].startswith(b"-ERR")
    r.close()
    r = Raw(starttls_bailey.st_imap)               # twice
    assert r.cmd(b"a STARTTLS\r\n", rb"^a ")[-1].startswith(b"a OK")
    tls_wrap(r, certs)
    assert r.cmd(b"b STARTTLS\r\n", rb"^b ")[-1].startswith(b"b BAD")
    r.close()
    s = socket.create_connection((HOST, tls_bailey.tls_ports["pop3s"]))
    s = client_ctx(certs).wrap_socket(s, server_hostname="localhost")
    f = s.makefile("rwb")
    assert f.readline().startswith(b"+OK")
    f.write(b"STLS\r\n")
    f.flush()
    assert f.readline().startswith(b"-ERR")        # already TLS
    s.close()


def test_row11_row33_pipelined_starttls_not_executed(starttls_bailey, certs):
    b = starttls_bailey
    r = Raw(b.st_imap)
    r.send(b"a STARTTLS\r\nb CAPABILITY\r\n")
    assert r.line().startswith(b"a OK")
    tls_wrap(r, certs)
    r.send(b"c NOOP\r\n")
    out = r.until(rb"^c ")
    assert not any(ln.startswith(b"b ") for ln in out), out
    assert out[-1].startswith(b"c OK")
    r.close()
    r = Raw(b.st_pop3)
    r.send(b"STLS\r\nCAPA\r\n")
    assert r.line().startswith(b"+OK")
    tls_wrap(r, certs)
    r.send(b"NOOP\r\n")
    assert r.line() == b"+OK"                      # not CAPA's answer
    r.close()
    assert b.wait_log(r"event=starttls-injection")


def test_row41_pre_tls_state_discarded(starttls_bailey, certs,
                                       filled_mailbox):
    b, mb = starttls_bailey, filled_mailbox
    r = Raw(b.st_pop3)
    r.cmd(b"USER %s\r\n" % mb.user.encode(), rb"^\+OK")
    r.cmd(b"STLS\r\n", rb"^\+OK")
    tls_wrap(r, certs)
    out = r.cmd(b"PASS %s\r\n" % mb.password.encode(), rb"^[+-]")
    assert out[-1].startswith(b"-ERR No user")
    r.close()
    r = Raw(b.st_imap)                 # a literal half sent before TLS
    r.cmd(b"a ID NIL\r\n", rb"^a ")
    r.cmd(b"b STARTTLS\r\n", rb"^b ")
    tls_wrap(r, certs)
    assert r.cmd(b"c NOOP\r\n", rb"^c ")[-1].startswith(b"c OK")
    r.close()


def test_tls_required(tls_bailey, certs, filled_mailbox):
    mb, p = filled_mailbox, tls_bailey.tls_ports
    r = Raw(p["imap_req"])
    assert b"LOGINDISABLED" in r.greeting and b"AUTH=" not in r.greeting
    out = r.cmd(b"a LOGIN %s %s\r\n" % (mb.user.encode(),
                                        mb.password.encode()), rb"^a ")
    assert out[-1].startswith(b"a NO [PRIVACYREQUIRED]")
    out = r.cmd(b"b AUTHENTICATE PLAIN %s\r\n" %
                b64(b"\0" + mb.user.encode() + b"\0x"), rb"^b ")
    assert out[-1].startswith(b"b NO")
    r.cmd(b"c STARTTLS\r\n", rb"^c OK")
    tls_wrap(r, certs)
    out = r.cmd(b"d CAPABILITY\r\n", rb"^d ")
    assert b"LOGINDISABLED" not in out[0] and b"AUTH=PLAIN" in out[0]
    out = r.cmd(b"e LOGIN %s %s\r\n" % (mb.user.encode(),
                                        mb.password.encode()), rb"^e ")
    assert out[-1].startswith(b"e OK")
    r.close()
    r = Raw(p["pop3_req"])
    capa = r.cmd(b"CAPA\r\n", rb"^\.$")
    assert b"STLS" in capa and b"USER" not in capa
    assert r.cmd(b"USER x\r\n", rb"^[+-]")[-1].startswith(b"-ERR")
    assert r.cmd(b"AUTH PLAIN\r\n", rb"^[+-]")[-1].startswith(b"-ERR")
    r.close()


def test_row23_stalled_handshakes_reaped(tls_bailey, starttls_bailey,
                                         filled_mailbox):
    hello = bytes.fromhex("16030100a5010000a10303") + os.urandom(20)
    socks = []
    for _ in range(100):
        s = socket.create_connection((HOST, tls_bailey.tls_ports["imaps"]))
        s.sendall(hello)                          # a partial ClientHello
        socks.append(s)
    for _ in range(20):
        r = Raw(starttls_bailey.st_imap)
        r.cmd(b"a STARTTLS\r\n", rb"^a OK")       # then silence
        socks.append(r.sock)
    t0 = time.monotonic()
    for s in socks:
        s.settimeout(10)
        try:
            while s.recv(4096):
                pass
        except (ConnectionResetError, socket.timeout):
            pass
    took = time.monotonic() - t0
    assert took < 8, took                          # timeout handshake 2
    for s in socks:
        s.close()
    assert tls_bailey.loggrep(r"reason=handshake-timeout")


# ASan's quarantine keeps freed memory on purpose: RSS bounds are only
# meaningful in the normal build (make check checks them there).
asan_build = pytest.mark.skipif(
    os.path.basename(os.path.normpath(build_dir())).endswith("-san"),
    reason="memory bounds are not measurable under ASan (quarantine)")


def worker_rss(b):
    """KiB of RSS over all of bailey's children."""
    total = 0
    for p in child_roles(b.proc.pid):
        try:
            with open("/proc/%d/status" % p) as f:
                total += int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))
        except (OSError, AttributeError, ValueError):
            continue
    return total


@asan_build
def test_row24_random_sni_bounded_memory(bailey_factory, certs):
    port = free_port()
    b = bailey_factory(workers=1, extra=tls_conf(certs) + (
        "listen imap on 127.0.0.1 port %d tls implicit\n" % port))
    ctx = ssl.create_default_context(cafile=cert(certs, "ca.pem"))
    ctx.check_hostname = False

    def burst(n):
        for _ in range(n):
            s = socket.create_connection((HOST, port))
            t = ctx.wrap_socket(s, server_hostname="r%s.example"
                                % secrets.token_hex(8))
            t.recv(100)
            t.close()
    burst(200)
    before = worker_rss(b)
    burst(2000)
    after = worker_rss(b)
    assert after - before < 4096, (before, after)   # KiB


@asan_build
def test_row25_aborted_sasl_bounded_memory(bailey_factory):
    b = bailey_factory(workers=1)
    r = Raw(b.imap_port)
    batch = b"a AUTHENTICATE PLAIN\r\n*\r\n" * 500
    r.send(batch)
    r.until(rb"^a BAD Authentication cancelled")
    time.sleep(0.2)
    r.buf = b""
    before = worker_rss(b)
    for _ in range(20):                      # 10,000 aborted exchanges
        r.send(batch)
    r.send(b"z NOOP\r\n")
    r.until(rb"^z OK")
    after = worker_rss(b)
    assert after - before < 2048, (before, after)
    r.close()


def test_row27_no_external_even_with_tls(tls_bailey, certs):
    s = socket.create_connection((HOST, tls_bailey.tls_ports["imaps"]))
    ctx = client_ctx(certs)
    ctx.load_cert_chain(cert(certs, "ec.pem"), cert(certs, "ec.key"))
    s = ctx.wrap_socket(s, server_hostname="localhost")
    f = s.makefile("rwb")
    f.readline()
    f.write(b"a AUTHENTICATE EXTERNAL =\r\n")
    f.flush()
    assert f.readline().startswith(b"a NO")
    s.close()


# ---- outbound: verified TLS to a real Dovecot ------------------------

def backend_line(tls_dovecot, proto, mode, opts=""):
    if mode == "implicit":
        port = tls_dovecot.imaps_port if proto == "imap" else \
            tls_dovecot.pop3s_port
    else:
        port = tls_dovecot.imap_port if proto == "imap" else \
            tls_dovecot.pop3_port
    return "server %s localhost port %d tls %s %s\n" % (proto, port, mode,
                                                       opts)


def out_bailey(bailey_factory, certs, tls_dovecot, mode, opts="", ca="ca.pem",
               extra=""):
    text = ('backend-ca "%s"\n' % cert(certs, ca) +
            backend_line(tls_dovecot, "imap", mode, opts) +
            backend_line(tls_dovecot, "pop3", mode, opts) + extra)
    return bailey_factory(imap_backend=None, pop3_backend=None, extra=text)


@pytest.mark.parametrize("mode", ["implicit", "starttls"])
def test_backend_tls_works(bailey_factory, certs, tls_dovecot, mode):
    b = out_bailey(bailey_factory, certs, tls_dovecot, mode)
    m = imaplib.IMAP4(HOST, b.imap_port, timeout=15)
    m.login(TLS_USER, TLS_PASS)
    typ, data = m.select("INBOX")
    assert typ == "OK" and data == [b"1"]
    m.logout()
    p = poplib.POP3(HOST, b.pop3_port, timeout=15)
    p.user(TLS_USER)
    p.pass_(TLS_PASS)
    assert p.stat()[0] == 1
    p.quit()
    assert b.wait_log(r"event=auth-ok backend=\S+ backend-tls=yes",
                      count=2)
    assert tls_dovecot.log_text().count("TLS") > 0


@pytest.mark.parametrize("mode", ["implicit", "starttls"])
@pytest.mark.parametrize("case", ["wrong-ca", "wrong-name"])
def test_row22_backend_verification_fails_cleanly(bailey_factory, certs,
                                                  tls_dovecot, mode, case):
    if case == "wrong-ca":
        b = out_bailey(bailey_factory, certs, tls_dovecot, mode, ca="ca2.pem")
    else:
        b = out_bailey(bailey_factory, certs, tls_dovecot, mode,
                       opts="name wrong.test")
    r = Raw(b.imap_port)
    out = r.cmd(b"a LOGIN %s %s\r\n" % (TLS_USER.encode(), TLS_PASS.encode()),
                rb"^a ")
    assert out[-1].startswith(b"a NO [UNAVAILABLE]")
    r.close()
    assert b.wait_log(r"event=backend-error")


def test_row22_pin_and_insecure_opt_outs(bailey_factory, certs, tls_dovecot):
    with open(cert(certs, "ec.pin"), "rb") as f:
        pin = f.read()
    pin = pin.hex() if len(pin) == 32 else pin.decode().split()[0]
    b = out_bailey(bailey_factory, certs, tls_dovecot, "implicit",
                   opts="verify pin pin %s" % pin, ca="ca2.pem")
    m = imaplib.IMAP4(HOST, b.imap_port, timeout=15)
    m.login(TLS_USER, TLS_PASS)
    m.logout()
    b2 = out_bailey(bailey_factory, certs, tls_dovecot, "implicit",
                    opts="verify pin pin %s" % ("0" * 64))
    r = Raw(b2.imap_port)
    out = r.cmd(b"a LOGIN %s %s\r\n" % (TLS_USER.encode(), TLS_PASS.encode()),
                rb"^a ")
    assert out[-1].startswith(b"a NO [UNAVAILABLE]")
    r.close()
    b3 = out_bailey(bailey_factory, certs, tls_dovecot, "implicit",
                    opts="verify insecure", ca="ca2.pem")
    m = imaplib.IMAP4(HOST, b3.imap_port, timeout=15)
    m.login(TLS_USER, TLS_PASS)
    m.logout()
    assert b3.wait_log(r"certificate not verified")


def openssl_server(certs, name, port, extra=()):
    """openssl s_server as a TLS backend that greets and then waits."""
    p = subprocess.Popen(["openssl", "s_server", "-accept",
                          "127.0.0.1:%d" % port, "-cert", cert(certs,
                                                              name + ".pem"),
                          "-key", cert(certs, name + ".key"), "-quiet"] +
                         list(extra),
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT)
    wait_for(lambda: port_open(port), 10)
    return p


def port_open(port):
    s = socket.socket()
    try:
        s.connect((HOST, port))
        return True
    except OSError:
        return False
    finally:
        s.close()


@pytest.mark.parametrize("name", ["expired", "wrong", "mail"])
def test_row22_bad_backend_certificates(bailey_factory, certs, name):
    port = free_port()
    srv = openssl_server(certs, name, port)
    try:
        b = bailey_factory(imap_backend=None, pop3_backend=None, extra=(
            'backend-ca "%s"\nserver imap localhost port %d tls implicit\n'
            % (cert(certs, "ca.pem"), port)))
        r = Raw(b.imap_port)
        out = r.cmd(b"a LOGIN u secret-pw\r\n", rb"^a ")
        assert out[-1].startswith(b"a NO [UNAVAILABLE]")
        r.close()
        assert b.wait_log(r"event=backend-error")
    finally:
        srv.kill()
        got = srv.communicate(timeout=10)[0]
    assert b"secret-pw" not in got


@pytest.mark.parametrize("inbound_min,outbound_min,ok", [
    ("1.3", "1.2", True), ("1.2", "1.3", False)])
def test_row2_outbound_versions_are_separate(bailey_factory, certs,
                                             inbound_min, outbound_min, ok):
    port = free_port()
    srv = openssl_server(certs, "ec", port, ["-tls1_2"])
    try:
        b = bailey_factory(imap_backend=None, pop3_backend=None, extra=(
            'tls-min-version %s\nbackend-tls-min-version %s\n'
            'backend-ca "%s"\nserver imap localhost port %d tls implicit\n'
            % (inbound_min, outbound_min, cert(certs, "ca.pem"), port)),
            timeout_login=5)
        r = Raw(b.imap_port)
        r.send(b"a LOGIN u secret-pw\r\n")
        if ok:
            assert b.wait_log(r"event=backend-tls version=TLSv1.2")
        else:
            assert r.line().startswith(b"a NO [UNAVAILABLE]")
            assert not b.loggrep(r"event=backend-tls version")
        r.close()
    finally:
        srv.kill()
        srv.communicate(timeout=10)


# ---- hostile backends around STARTTLS (rows 16, 42) ------------------

@pytest.mark.parametrize("script", [
    # STARTTLS answered NO: never fall back to clear text.
    [("send", b"* OK [CAPABILITY IMAP4rev1 STARTTLS] hi\r\n"),
     ("expect", rb"^B0 STARTTLS"), ("send", b"B0 NO no tls today\r\n"),
     ("hold",)],
    # No STARTTLS in the capabilities.
    [("send", b"* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] hi\r\n"), ("hold",)],
    # PREAUTH: someone logged us in already.
    [("send", b"* PREAUTH [CAPABILITY IMAP4rev1] welcome\r\n"), ("hold",)],
    # Row 16: plaintext injected behind the STARTTLS OK.
    [("send", b"* OK [CAPABILITY IMAP4rev1 STARTTLS] hi\r\n"),
     ("expect", rb"^B0 STARTTLS"),
     ("send", b"B0 OK Begin TLS\r\n* OK [CAPABILITY IMAP4rev1] fake\r\n"),
     ("hold",)],
    # Untagged BYE instead of the STARTTLS reply.
    [("send", b"* OK hi\r\n"), ("expect", rb"^B0 STARTTLS"),
     ("send", b"* BYE bye\r\n"), ("hold",)],
], ids=["no", "missing", "preauth", "row16-injection", "bye"])
def test_row42_backend_starttls_downgrades(bailey_factory, hostile_backend,
                                           script):
    hb = hostile_backend(script)
    b = bailey_factory(imap_backend=None, pop3_backend=None, extra=(
        "server imap 127.0.0.1 port %d tls starttls verify insecure\n"
        % hb.port))
    r = Raw(b.imap_port)
    out = r.cmd(b"a LOGIN bob secret-pw\r\n", rb"^a ")
    assert out[-1].startswith(b"a NO [UNAVAILABLE]")
    r.close()
    time.sleep(0.3)
    assert b"secret-pw" not in b"".join(hb.received)
    assert b"LOGIN" not in b"".join(hb.received)


def test_row42_pop3_backend_stls_refused(bailey_factory, hostile_backend):
    hb = hostile_backend([("send", b"+OK hi\r\n"), ("expect", rb"^STLS"),
                          ("send", b"-ERR not here\r\n"), ("hold",)])
    b = bailey_factory(imap_backend=None, pop3_backend=None, extra=(
        "server pop3 127.0.0.1 port %d tls starttls verify insecure\n"
        % hb.port))
    r = Raw(b.pop3_port)
    r.cmd(b"USER bob\r\n", rb"^\+OK")
    out = r.cmd(b"PASS secret-pw\r\n", rb"^[+-]")
    assert out[-1].startswith(b"-ERR [SYS/TEMP]")
    r.close()
    time.sleep(0.3)
    assert b"secret-pw" not in b"".join(hb.received)
    assert b"USER" not in b"".join(hb.received)


@pytest.mark.parametrize("version", ["TLSv1_2", "TLSv1_3"])
def test_session_resumption_across_workers(bailey_factory, certs, version):
    port = free_port()
    bailey_factory(workers=2, extra=tls_conf(certs) + (
        "listen imap on 127.0.0.1 port %d tls implicit\n" % port))
    ctx = client_ctx(certs)
    ctx.minimum_version = ctx.maximum_version = getattr(ssl.TLSVersion,
                                                        version)
    s = ctx.wrap_socket(socket.create_connection((HOST, port)),
                        server_hostname="localhost")
    s.recv(200)                 # the greeting; TLS 1.3 tickets come first
    session = s.session
    s.close()
    reused = 0
    for _ in range(12):         # lands on both workers
        s = ctx.wrap_socket(socket.create_connection((HOST, port)),
                            server_hostname="localhost", session=session)
        assert s.recv(200).startswith(b"* OK")
        reused += s.session_reused
        s.close()
    assert reused == 12, reused


def test_cipher_suites_configurable(bailey_factory, certs, state_root):
    port = free_port()
    bailey_factory(extra=tls_conf(certs, (
        "tls-ciphers TLS1-3-CHACHA20-POLY1305-SHA256 "
        "TLS-ECDHE-ECDSA-WITH-CHACHA20-POLY1305-SHA256\n"
        "listen imap on 127.0.0.1 port %d tls implicit\n" % port)))
    for ver, want in (("-tls1_2", b"ECDHE-ECDSA-CHACHA20-POLY1305"),
                      ("-tls1_3", b"TLS_CHACHA20_POLY1305_SHA256")):
        r = subprocess.run(["openssl", "s_client", ver, "-connect",
                            "%s:%d" % (HOST, port), "-CAfile",
                            cert(certs, "ca.pem"), "-brief"], input=b"",
                           capture_output=True, timeout=30)
        assert want in r.stdout + r.stderr, r.stderr
    # A client that only offers AES-GCM in TLS 1.2 gets no handshake.
    r = subprocess.run(["openssl", "s_client", "-tls1_2", "-cipher",
                        "ECDHE-ECDSA-AES128-GCM-SHA256", "-connect",
                        "%s:%d" % (HOST, port)], input=b"",
                       capture_output=True, timeout=30)
    assert r.returncode != 0
    conf = os.path.join(state_root, "badsuite.conf")
    with open(conf, "w") as f:
        f.write(tls_conf(certs, "backend-tls-ciphers TLS-NOT-A-SUITE\n"
                         "listen imap on 127.0.0.1 port %d\n" % port))
    r = subprocess.run([os.path.join(os.environ.get(
        "BAILEY_BUILD", "build"), "bailey"), "-n", "-f", conf],
        capture_output=True, text=True, timeout=10)
    assert r.returncode == 1 and "TLS-NOT-A-SUITE" in r.stderr


def test_keyholder_failure_stops_startup(state_root, certs):
    bad = os.path.join(state_root, "garbage.key")
    with open(bad, "w") as f:
        f.write("-----BEGIN PRIVATE KEY-----\nAAAA\n"
                "-----END PRIVATE KEY-----\n")
    os.chmod(bad, 0o600)
    conf = os.path.join(state_root, "badkey.conf")
    with open(conf, "w") as f:
        f.write('certificate "%s" key "%s"\nlisten imap on 127.0.0.1 port '
                '%d tls implicit\n' % (cert(certs, "ec.pem"), bad,
                                       free_port()))
    r = subprocess.run([os.path.join(os.environ.get(
        "BAILEY_BUILD", "build"), "bailey"), "-d", "-f", conf],
        capture_output=True, text=True, timeout=60)
    assert r.returncode == 1
    assert "keyholder could not load the TLS keys" in r.stderr
