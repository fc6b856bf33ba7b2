# Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
#
# The appliance image, booted for real: qemu (TCG, user-mode networking,
# forwards on 127.0.0.1 only) in front of a private Dovecot on the host.
# Runs on the test machine as the invoking user (root here); trusts
# qemu, Dovecot, curl, openssl and the image it builds (DEBUG=1, whose
# init takes "kill bailey", "pbsctl list" and "nft list" on the serial
# console).  Every qemu and Dovecot is stopped by
# PID, also on failure (fixtures' finalizers).
#
#   python3 -m pytest -q tests/image        (or: make image-check)
import imaplib
import os
import poplib
import re
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time

import pytest

TOP = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(TOP, "image"))
import run as image_run  # noqa: E402

BOOT_TIMEOUT = 120          # TCG on a loaded 2-core host
EPOCH = "1700000000"
TEST_IMAGE = os.path.join(TOP, "build", "image-test")

pytestmark = pytest.mark.skipif(
    shutil.which("qemu-system-x86_64") is None,
    reason="qemu-system-x86 is not installed (see image/DEPS)")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def build_image(outdir):
    env = dict(os.environ, DEBUG="1", SOURCE_DATE_EPOCH=EPOCH)
    r = subprocess.run([os.path.join(TOP, "image", "build.sh"), outdir],
                       env=env, cwd=TOP, capture_output=True, text=True,
                       timeout=600)
    if r.returncode != 0:
        pytest.fail("image/build.sh failed:\n%s\n%s" % (r.stdout, r.stderr))
    with open(os.path.join(outdir, "SHA256SUMS")) as f:
        return f.read()


def make_tls(root, caname):
    """A CA and a server certificate for 127.0.0.1/localhost signed by it
    (image/mkcert.sh, as the build and make image-run use it)."""
    subprocess.run([os.path.join(TOP, "image", "mkcert.sh"),
                    os.path.join(root, "ca"), caname,
                    os.path.join(root, "server"),
                    "DNS:localhost,IP:127.0.0.1,IP:10.0.2.15"], check=True)
    return {"ca": os.path.join(root, "ca", "ca.pem"),
            "dir": os.path.join(root, "server")}


def make_config(root, imap_port, pop3_port, tls_dir, bailey_extra="",
                blocked_port=None):
    """A config disk whose backends are the test's Dovecot ports, with
    the sample config's TLS listeners (STARTTLS on 143/110, implicit TLS
    on 993/995), tls_dir's certificate and the sample pbsd.conf.  With
    blocked_port, bailey.conf names 10.0.2.2:blocked_port as the first
    POP3 server, but appliance.conf does not allow it out."""
    etc = os.path.join(root, "src", "etc")
    os.makedirs(etc)
    with open(os.path.join(etc, "bailey.conf"), "w") as f:
        f.write("workers 1\nlog syslog no\nlog stderr yes\n"
                "log level debug\n"
                "certificate /etc/bailey/tls/server.pem "
                "key /etc/bailey/tls/server.key\n"
                "listen imap on 0.0.0.0 port 143 tls starttls\n"
                "listen pop3 on 0.0.0.0 port 110 tls starttls\n"
                "listen imap on 0.0.0.0 port 993 tls implicit\n"
                "listen pop3 on 0.0.0.0 port 995 tls implicit\n"
                "listen imap on 0.0.0.0 port 1143\n"
                "timeout connect 5\n"
                "pbsd socket /run/pbsd/pbsd.sock\n"
                "server imap 10.0.2.2 port %d\n"
                % imap_port)
        if blocked_port is not None:
            f.write("server pop3 10.0.2.2 port %d\n" % blocked_port)
        f.write("server pop3 10.0.2.2 port %d\n%s"
                % (pop3_port, bailey_extra))
    shutil.copy(os.path.join(TOP, "image", "config", "etc", "pbsd.conf"),
                etc)
    with open(os.path.join(etc, "appliance.conf"), "w") as f:
        f.write("address 10.0.2.15/24\ngateway 10.0.2.2\n"
                "allow-in 143\nallow-in 110\nallow-in 993\nallow-in 995\n"
                "allow-out 10.0.2.2 %d\nallow-out 10.0.2.2 %d\n"
                % (imap_port, pop3_port))
    img = os.path.join(root, "config.img")
    subprocess.run([os.path.join(TOP, "image", "mkconfig.sh"),
                    os.path.join(root, "src"), img, tls_dir], check=True,
                   env=dict(os.environ, SOURCE_DATE_EPOCH=EPOCH))
    return img


@pytest.fixture(scope="module")
def image():
    """The test image, and right after it a second build of the same tree
    (back to back, so that concurrent edits to the tree rarely fall in
    between) for the reproducibility test."""
    first = build_image(TEST_IMAGE)
    linked = link_times()
    d = tempfile.mkdtemp(prefix="bailey-image-repro.")
    try:
        second = build_image(d)
        differ = [f for f in sorted(os.listdir(os.path.join(d, "work")))
                  if os.path.isfile(os.path.join(d, "work", f)) and
                  not f.endswith((".log", ".spec")) and
                  not same_file(os.path.join(d, "work", f),
                                os.path.join(TEST_IMAGE, "work", f))]
    finally:
        shutil.rmtree(d, ignore_errors=True)
    return {"sums": first, "again": second, "differ": differ,
            "relinked": link_times() != linked}


def link_times():
    """When make last linked the binaries the image takes from the tree."""
    times = []
    for rel in ("image-static/bailey", "bin/pbsd", "bin/pbsctl"):
        try:
            times.append(os.stat(os.path.join(TOP, "build", rel)).st_mtime_ns)
        except FileNotFoundError:
            times.append(None)
    return times


def same_file(a, b):
    try:
        with open(a, "rb") as fa, open(b, "rb") as fb:
            return fa.read() == fb.read()
    except FileNotFoundError:
        return False


@pytest.fixture(scope="module")
def workdir():
    d = tempfile.mkdtemp(prefix="bailey-image-test.")
    os.chmod(d, 0o755)          # Dovecot's users must reach its root
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="module")
def dovecot(workdir):
    ports = (free_port(), free_port())
    dc = image_run.Dovecot(os.path.join(workdir, "dovecot"), *ports)
    dc.start()
    yield ports
    dc.stop()


@pytest.fixture(scope="module")
def blocked():
    """A host listener the guest's firewall must never let bailey reach."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(8)
    s.setblocking(False)
    yield s
    s.close()


@pytest.fixture(scope="module")
def tls(workdir):
    """The appliance's CA, and a second CA that did not sign it."""
    good = make_tls(os.path.join(workdir, "tls"), "Bailey image test CA")
    wrong = make_tls(os.path.join(workdir, "tls-wrong"), "Some other CA")
    return {"ca": good["ca"], "dir": good["dir"], "wrong_ca": wrong["ca"]}


@pytest.fixture(scope="module")
def appliance(image, workdir, dovecot, blocked, tls):
    guest = (143, 110, 1143, 993, 995)
    fwd = {free_port(): g for g in guest}
    # user@host is on for exactly the blocked listener: the policy lets
    # bailey try it, the firewall must not.
    cfg = make_config(os.path.join(workdir, "good"), *dovecot, tls["dir"],
                      bailey_extra="policy user-host on\nallow host *\n"
                      "allow net 10.0.2.2/32\nallow port %d\n"
                      % blocked.getsockname()[1],
                      blocked_port=blocked.getsockname()[1])
    app = image_run.Appliance(TEST_IMAGE, cfg, fwd)
    app.ports = {g: h for h, g in fwd.items()}
    app.start()
    yield app
    app.stop()


def imap_fetch(port):
    m = imaplib.IMAP4("127.0.0.1", port, timeout=30)
    try:
        m.login("demo", "demo")
        typ, data = m.select("INBOX")
        assert typ == "OK" and int(data[0]) >= 1
        typ, data = m.fetch("1", "(RFC822)")
        assert typ == "OK"
        return data[0][1]
    finally:
        try:
            m.logout()
        except (imaplib.IMAP4.error, OSError):
            pass


def test_boot_ready(appliance):
    appliance.wait_for(image_run.READY_RE, BOOT_TIMEOUT)
    elapsed = time.monotonic() - appliance.started
    body = imap_fetch(appliance.ports[143])
    print("\nboot to first served login: %.1f s (qemu TCG)"
          % (time.monotonic() - appliance.started))
    assert b"Message-ID: <demo-" in body
    assert elapsed < BOOT_TIMEOUT
    # The modules were loaded and then locked; bailey -n ran.
    appliance.wait_for(r"configuration OK", 1)
    appliance.wait_for(r"ready: 5 listeners", 10)


def pop3_retr(port):
    p = poplib.POP3("127.0.0.1", port, timeout=30)
    try:
        assert p.user("demo").startswith(b"+OK")
        assert p.pass_("demo").startswith(b"+OK")
        count, _ = p.stat()
        assert count >= 1
        resp, lines, _ = p.retr(1)
        assert resp.startswith(b"+OK")
        assert any(line.startswith(b"Message-ID: <demo-") for line in lines)
    finally:
        p.quit()


def test_pop3_retrieval_and_outbound_filter(appliance, blocked):
    """Two logins: round robin tries the blocked server first for one of
    them; the firewall refuses it, bailey falls back to Dovecot, and the
    blocked listener never sees a connection."""
    appliance.wait_for(image_run.READY_RE, BOOT_TIMEOUT)
    pop3_retr(appliance.ports[110])
    pop3_retr(appliance.ports[110])
    try:
        conn, peer = blocked.accept()
        conn.close()
        pytest.fail("the guest reached a port allow-out does not list "
                    "(from %s:%d)" % peer)
    except BlockingIOError:
        pass
    # The dialer's debug line for the refused attempt.
    appliance.wait_for(r"connect 10\.0\.2\.2:%d: "
                       % blocked.getsockname()[1], 1)


def test_user_host_the_policy_allows_but_the_firewall_does_not(appliance,
                                                              blocked):
    """demo@10.0.2.2:PORT passes bailey's destination policy (allow net
    10.0.2.2/32, allow port PORT), so the dialer tries it; the ruleset's
    output chain drops it: a clean NO, and the host listener never sees
    a connection.  A normal login works afterwards."""
    appliance.wait_for(image_run.READY_RE, BOOT_TIMEOUT)
    port = blocked.getsockname()[1]
    i0 = len(appliance.lines)
    m = imaplib.IMAP4("127.0.0.1", appliance.ports[143], timeout=60)
    try:
        with pytest.raises(imaplib.IMAP4.error):
            m.login("demo@10.0.2.2:%d" % port, "demo")
    finally:
        m.logout()
    # The dialer did try (the policy allowed it) ...
    appliance.wait_for(r"connect 10\.0\.2\.2:%d: " % port, 10, i0)
    # ... and nothing reached the host.
    try:
        conn, peer = blocked.accept()
        conn.close()
        pytest.fail("user@host reached a destination the firewall does "
                    "not allow (from %s:%d)" % peer)
    except BlockingIOError:
        pass
    assert b"Message-ID: <demo-" in imap_fetch(appliance.ports[143])


def test_port_not_in_ruleset_is_closed(appliance):
    """bailey listens on 1143 too, but appliance.conf does not open it:
    the firewall drops the connection before bailey sees it."""
    appliance.wait_for(image_run.READY_RE, BOOT_TIMEOUT)
    assert no_greeting(appliance.ports[1143]), \
        "a greeting came through a port the ruleset does not open"
    # ... while the open port answers with a greeting.
    s = socket.create_connection(("127.0.0.1", appliance.ports[143]),
                                 timeout=10)
    s.settimeout(10)
    try:
        assert s.recv(100).startswith(b"* OK")
    finally:
        s.close()


def curl(*args):
    return subprocess.run(["curl", "-sS", "--max-time", "60",
                           "-u", "demo:demo"] + list(args),
                          capture_output=True, timeout=90)


def direct_imap_messages(port):
    """Every message of demo's INBOX as Dovecot holds it (plain, on the
    host, not through the appliance)."""
    m = imaplib.IMAP4("127.0.0.1", port, timeout=30)
    try:
        m.login("demo", "demo")
        return imap_bodies(m)
    finally:
        m.logout()


def imap_bodies(m):
    typ, data = m.select("INBOX", readonly=True)
    assert typ == "OK"
    n = int(data[0])
    assert n >= 1
    typ, data = m.fetch("1:%d" % n, "(BODY.PEEK[])")
    assert typ == "OK"
    return [d[1] for d in data if isinstance(d, tuple)]


def pop3_lines(p):
    assert p.user("demo").startswith(b"+OK")
    assert p.pass_("demo").startswith(b"+OK")
    count, _ = p.stat()
    assert count >= 1
    resp, lines, _ = p.retr(1)
    assert resp.startswith(b"+OK")
    return lines


def direct_pop3_lines(port):
    p = poplib.POP3("127.0.0.1", port, timeout=30)
    try:
        return pop3_lines(p)
    finally:
        p.quit()


def test_curl_implicit_tls(appliance, dovecot, tls):
    """curl over imaps:// and pop3s:// through 993/995, verified against
    the CA, gets the same bytes as curl straight from Dovecot."""
    appliance.wait_for(image_run.READY_RE, BOOT_TIMEOUT)
    for scheme, guest, backend, path in (
            ("imap", 993, dovecot[0], "INBOX;MAILINDEX=1"),
            ("pop3", 995, dovecot[1], "1")):
        ref = curl("%s://127.0.0.1:%d/%s" % (scheme, backend, path))
        assert ref.returncode == 0, ref.stderr
        assert b"Message-ID: <demo-" in ref.stdout
        got = curl("--cacert", tls["ca"], "%ss://127.0.0.1:%d/%s"
                   % (scheme, appliance.ports[guest], path))
        assert got.returncode == 0, got.stderr
        assert got.stdout == ref.stdout


def test_curl_starttls(appliance, dovecot, tls):
    """imap:// and pop3:// with --ssl-reqd on 143/110: STARTTLS and STLS
    before the login, verified, same bytes as straight from Dovecot."""
    appliance.wait_for(image_run.READY_RE, BOOT_TIMEOUT)
    for scheme, guest, backend, path, verb in (
            ("imap", 143, dovecot[0], "INBOX;MAILINDEX=1", b"STARTTLS"),
            ("pop3", 110, dovecot[1], "1", b"STLS")):
        ref = curl("%s://127.0.0.1:%d/%s" % (scheme, backend, path))
        assert ref.returncode == 0, ref.stderr
        got = curl("-v", "--ssl-reqd", "--cacert", tls["ca"],
                   "%s://127.0.0.1:%d/%s"
                   % (scheme, appliance.ports[guest], path))
        assert got.returncode == 0, got.stderr
        assert got.stdout == ref.stdout
        # curl -v shows the commands it sends: "> A002 STARTTLS", "> STLS".
        assert re.search(rb"^> (A\d+ )?" + verb + rb"\r?$", got.stderr,
                         re.M), got.stderr


def tls_context(cafile):
    ctx = ssl.create_default_context(cafile=cafile)
    assert ctx.verify_mode == ssl.CERT_REQUIRED and ctx.check_hostname
    return ctx


def test_imaplib_ssl_byte_exact(appliance, dovecot, tls):
    """IMAP4_SSL on 993: every message byte for byte as Dovecot holds
    it."""
    appliance.wait_for(image_run.READY_RE, BOOT_TIMEOUT)
    ref = direct_imap_messages(dovecot[0])
    m = imaplib.IMAP4_SSL("127.0.0.1", appliance.ports[993],
                          ssl_context=tls_context(tls["ca"]), timeout=60)
    try:
        assert m.sock.version() in ("TLSv1.2", "TLSv1.3")
        m.login("demo", "demo")
        got = imap_bodies(m)
    finally:
        m.logout()
    assert got == ref


def test_pop3_over_tls(appliance, dovecot, tls):
    """POP3_SSL on 995 and STLS on 110: message 1 as Dovecot has it."""
    appliance.wait_for(image_run.READY_RE, BOOT_TIMEOUT)
    ref = direct_pop3_lines(dovecot[1])
    p = poplib.POP3_SSL("127.0.0.1", appliance.ports[995],
                        context=tls_context(tls["ca"]), timeout=60)
    try:
        assert pop3_lines(p) == ref
    finally:
        p.quit()
    p = poplib.POP3("127.0.0.1", appliance.ports[110], timeout=60)
    try:
        assert p.stls(context=tls_context(tls["ca"])).startswith(b"+OK")
        assert isinstance(p.sock, ssl.SSLSocket)
        assert pop3_lines(p) == ref
    finally:
        p.quit()


def test_wrong_ca_fails(appliance, tls):
    """Verification is really on: the same clients with a CA that did not
    sign the appliance's certificate fail (curl exit 60, python's
    SSLCertVerificationError), on implicit TLS and on STARTTLS."""
    appliance.wait_for(image_run.READY_RE, BOOT_TIMEOUT)
    for url in ("imaps://127.0.0.1:%d/INBOX;MAILINDEX=1"
                % appliance.ports[993],
                "pop3s://127.0.0.1:%d/1" % appliance.ports[995]):
        r = curl("--cacert", tls["wrong_ca"], url)
        assert r.returncode == 60, (url, r.returncode, r.stderr)
    r = curl("--ssl-reqd", "--cacert", tls["wrong_ca"],
             "imap://127.0.0.1:%d/INBOX;MAILINDEX=1" % appliance.ports[143])
    assert r.returncode == 60, r.stderr
    with pytest.raises(ssl.SSLCertVerificationError):
        imaplib.IMAP4_SSL("127.0.0.1", appliance.ports[993],
                          ssl_context=tls_context(tls["wrong_ca"]),
                          timeout=60)
    with pytest.raises(ssl.SSLCertVerificationError):
        poplib.POP3_SSL("127.0.0.1", appliance.ports[995],
                        context=tls_context(tls["wrong_ca"]), timeout=60)


def console_tool(app, cmd, timeout=30):
    """Types a debug console command that runs a tool; returns the
    console lines it printed (up to init's "tool done")."""
    with app._lock:
        start = len(app.lines)
    app.send(cmd)
    i, _ = app.wait_for(r"debug: running /sbin/", timeout, start)
    j, m = app.wait_for(r"debug: tool done \(status (\d+)\)", timeout, i)
    assert m.group(1) == "0", app.tail()
    with app._lock:
        return app.lines[i + 1:j]


def test_login_address_in_pbsd_set(appliance):
    """After a login through the appliance, the client address the guest
    sees (10.0.2.2: qemu's user networking) is in pbsd's table (pbsctl
    list) and in the firewall's relay4 set with a timeout (nft list),
    next to the rules that accept SMTP and submission from it."""
    with open(os.path.join(TEST_IMAGE, "MANIFEST")) as f:
        assert "pbsd 1" in f.read().splitlines(), \
            "pbsd did not build, so the image has none (see build.sh)"
    appliance.wait_for(image_run.READY_RE, BOOT_TIMEOUT)
    assert b"Message-ID: <demo-" in imap_fetch(appliance.ports[143])
    deadline = time.monotonic() + 30
    entry = None
    while entry is None:
        for line in console_tool(appliance, "pbsctl list"):
            m = re.search(r"^10\.0\.2\.2 (\d+) (\d+)\s*$", line)
            if m:
                entry = int(m.group(2))
        if entry is None:
            assert time.monotonic() < deadline, appliance.tail()
            time.sleep(1)
    assert 0 < entry <= 1800
    deadline = time.monotonic() + 30
    while True:
        text = "\n".join(console_tool(appliance, "nft list"))
        if re.search(r"elements = \{ 10\.0\.2\.2 timeout 30m expires ",
                     text):
            break
        assert time.monotonic() < deadline, text
        time.sleep(1)
    assert re.search(r"set relay4 \{\s*type ipv4_addr\s*flags timeout",
                     text), text
    assert "ip saddr @relay4 tcp dport 25 accept" in text
    assert "ip saddr @relay4 tcp dport 587 accept" in text
    assert "ip6 saddr @relay6 tcp dport 587 accept" in text


def test_killed_bailey_is_restarted(appliance):
    i, _ = appliance.wait_for(image_run.READY_RE, BOOT_TIMEOUT)
    appliance.send("kill bailey")
    j, _ = appliance.wait_for(r"bailey exited \(signal 9\); restart 1",
                              30, i)
    appliance.wait_for(r"started bailey \(pid \d+\)", 30, j)
    appliance.wait_for(r"READY 2:", 60, j)
    assert b"Message-ID: <demo-" in imap_fetch(appliance.ports[143])


def test_poweroff_is_clean(appliance):
    appliance.wait_for(image_run.READY_RE, BOOT_TIMEOUT)
    appliance.send("poweroff")
    appliance.wait_for(r"bailey-image: \[[0-9.]+\] power off", 30)
    appliance.proc.wait(timeout=30)
    text = "\n".join(appliance.lines)
    assert "did not stop" not in text


def no_greeting(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.settimeout(5)
    try:
        data = s.recv(100)
    except (socket.timeout, ConnectionResetError):
        data = b""
    finally:
        s.close()
    return data == b""


def test_bad_or_missing_config_serves_nothing(image, workdir, dovecot, tls):
    """Two boots side by side: an invalid bailey.conf, with the appliance's
    real compressed kernel (the other boots use the faster vmlinux), and
    no config disk at all."""
    fwd_bad, fwd_none = {free_port(): 143}, {free_port(): 143}
    cfg = make_config(os.path.join(workdir, "bad"), *dovecot, tls["dir"],
                      bailey_extra="listen imap on nowhere port 143\n")
    bad = image_run.Appliance(TEST_IMAGE, cfg, fwd_bad, kernel="vmlinuz")
    none = image_run.Appliance(TEST_IMAGE, None, fwd_none)
    try:
        bad.start()
        none.start()
        none.wait_for(r"CONFIG ERROR: no config disk", BOOT_TIMEOUT)
        none.wait_for(r"CONFIG ERROR: serving nothing", 5)
        bad.wait_for(r"CONFIG ERROR: bailey.conf is invalid", BOOT_TIMEOUT)
        bad.wait_for(r"CONFIG ERROR: serving nothing", 5)
        assert no_greeting(list(fwd_bad)[0])
        assert no_greeting(list(fwd_none)[0])
        for app in (bad, none):
            assert not any("started " in line for line in app.lines)
    finally:
        bad.stop()
        none.stop()


def test_two_builds_are_identical(image):
    """Same tree, two builds: same bytes.  (bailey's objects are reused by
    make; init, the archive, the compression and the config disk are made
    again.)  If make had to relink bailey in between, someone edited the
    tree meanwhile and the comparison says nothing."""
    assert len(image["sums"].splitlines()) == 4
    if image["relinked"] and image["again"] != image["sums"]:
        pytest.skip("the tree changed between the two builds")
    assert image["again"] == image["sums"], (
        "second build differs; differing intermediate files: %s"
        % image["differ"])
