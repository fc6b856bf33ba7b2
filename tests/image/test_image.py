# Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
#
# The appliance image, booted for real: qemu (TCG, user-mode networking,
# forwards on 127.0.0.1 only) in front of a private Dovecot on the host.
# Runs on the test machine as the invoking user (root here); trusts
# qemu, Dovecot and the image it builds (DEBUG=1, whose init takes "kill
# bailey" on the serial console).  Every qemu and Dovecot is stopped by
# PID, also on failure (fixtures' finalizers).
#
#   python3 -m pytest -q tests/image        (or: make image-check)
import imaplib
import os
import poplib
import shutil
import socket
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


def make_config(root, imap_port, pop3_port, bailey_extra="",
                blocked_port=None):
    """A config disk whose backends are the test's Dovecot ports.  With
    blocked_port, bailey.conf names 10.0.2.2:blocked_port as the first
    POP3 server, but appliance.conf does not allow it out."""
    etc = os.path.join(root, "src", "etc")
    os.makedirs(etc)
    with open(os.path.join(etc, "bailey.conf"), "w") as f:
        f.write("workers 1\nlog syslog no\nlog stderr yes\n"
                "log level debug\n"
                "listen imap on 0.0.0.0 port 143\n"
                "listen pop3 on 0.0.0.0 port 110\n"
                "listen imap on 0.0.0.0 port 1143\n"
                "timeout connect 5\n"
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
                "allow-in 143\nallow-in 110\n"
                "allow-out 10.0.2.2 %d\nallow-out 10.0.2.2 %d\n"
                % (imap_port, pop3_port))
    img = os.path.join(root, "config.img")
    subprocess.run([os.path.join(TOP, "image", "mkconfig.sh"),
                    os.path.join(root, "src"), img], check=True,
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
def appliance(image, workdir, dovecot, blocked):
    fwd = {free_port(): 143, free_port(): 110, free_port(): 1143}
    cfg = make_config(os.path.join(workdir, "good"), *dovecot,
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
    appliance.wait_for(r"ready: 3 listeners", 10)


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


def test_bad_or_missing_config_serves_nothing(image, workdir, dovecot):
    """Two boots side by side: an invalid bailey.conf, with the appliance's
    real compressed kernel (the other boots use the faster vmlinux), and
    no config disk at all."""
    fwd_bad, fwd_none = {free_port(): 143}, {free_port(): 143}
    cfg = make_config(os.path.join(workdir, "bad"), *dovecot,
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
