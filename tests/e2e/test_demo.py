# Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
#
# The demo's contract (README, issues 3-6): scripts/demo.sh (what `make
# demo` runs after building) serves bailey on 127.0.0.1:1143/1110
# (STARTTLS) and 1993/1995 (implicit TLS) in front of Dovecot, users
# demo/demo and legacy/legacy, the CA at DEMO_DIR/ca.pem, the parent's PID
# in DEMO_DIR/bailey.pid with the full sandbox on, and pbsd's Postfix map
# at DEMO_DIR/pbsd/relay.  Real clients: curl, python imaplib/poplib,
# postmap.  The demo runs in its own process group and is stopped with
# SIGTERM, as Ctrl-C would; the test checks that it leaves nothing behind.
import imaplib
import os
import poplib
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time

import pytest

from bailey_harness import HOST

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
PORTS = (1143, 1110, 1993, 1995, 10143, 10110, 10993, 10995)


def port_busy(port):
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex((HOST, port)) == 0


def status(pid):
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            out[k] = v.strip()
    return out


@pytest.fixture
def demo():
    if os.geteuid() != 0:
        pytest.skip("the demo runs as root")
    busy = [p for p in PORTS if port_busy(p)]
    if busy:
        pytest.skip("demo ports in use (a demo running?): %s" % busy)
    d = tempfile.mkdtemp(prefix="bailey-demo.")
    os.chmod(d, 0o755)
    env = dict(os.environ, DEMO_DIR=d,
               BAILEY_BUILD=os.environ.get("BAILEY_BUILD",
                                           os.path.join(REPO, "build")))
    log = open(os.path.join(d, "demo.out"), "w+")
    proc = subprocess.Popen([os.path.join(REPO, "scripts", "demo.sh")],
                            env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 90
        while True:
            log.seek(0)
            text = log.read()
            if "Press Ctrl-C to stop." in text:
                break
            assert proc.poll() is None, "demo exited:\n" + text
            assert time.monotonic() < deadline, "demo not ready:\n" + text
            time.sleep(0.2)
        proc.demo_dir = d
        proc.log = log
        yield proc
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        log.close()
        shutil.rmtree(d, ignore_errors=True)


def curl(*args):
    r = subprocess.run(["curl", "-sS", "--max-time", "20"] + list(args),
                       capture_output=True, timeout=30)
    assert r.returncode == 0, r.stderr
    return r.stdout


def test_demo_contract(demo):
    d = demo.demo_dir
    ca = os.path.join(d, "ca.pem")
    ctx = ssl.create_default_context(cafile=ca)

    # The parent's PID, and the full sandbox on: the parent itself is
    # unprivileged and filtered, its children too.
    with open(os.path.join(d, "bailey.pid")) as f:
        pid = int(f.read())
    with open("/proc/%d/comm" % pid) as f:
        assert f.read().strip() == "bailey"
    st = status(pid)
    assert st["Uid"].split()[0] != "0" and st["Seccomp"] == "2", st
    assert st["NoNewPrivs"] == "1" and int(st["CapEff"], 16) == 0, st

    # curl: STARTTLS on 1143 (demo -> Dovecot over verified TLS) and
    # implicit TLS on 1993 and 1995, each verified against the demo CA.
    listing = curl("--ssl-reqd", "--cacert", ca, "-u", "demo:demo",
                   "imap://localhost:1143/")
    assert b"INBOX" in listing
    msg = curl("--cacert", ca, "-u", "demo:demo",
               "imaps://localhost:1993/INBOX;MAILINDEX=1")
    assert b"Subject:" in msg
    top = curl("--cacert", ca, "-u", "demo:demo", "pop3s://localhost:1995/1")
    assert b"Subject:" in top

    # python imaplib/poplib: STARTTLS/STLS on the plain ports.
    m = imaplib.IMAP4(HOST, 1143)
    m.starttls(ssl_context=ctx)
    assert m.login("demo", "demo")[0] == "OK"
    typ, data = m.select("INBOX")
    assert typ == "OK" and int(data[0]) >= 1
    m.logout()
    p = poplib.POP3(HOST, 1110)
    p.stls(context=ctx)
    p.user("legacy")
    assert p.pass_("legacy").startswith(b"+OK")
    assert p.stat()[0] >= 0     # legacy's mailbox may be empty
    p.quit()
    # A wrong password is refused and the demo keeps serving.
    m = imaplib.IMAP4_SSL(HOST, 1993, ssl_context=ctx)
    with pytest.raises(imaplib.IMAP4.error):
        m.login("demo", "wrong")
    m.logout()
    m = imaplib.IMAP4_SSL(HOST, 1993, ssl_context=ctx)
    assert m.login("legacy", "legacy")[0] == "OK"
    m.logout()

    # POP/IMAP-before-SMTP: Postfix's own postmap reads pbsd's map, and
    # pbsctl with the demo's config lists the entry.
    relay = os.path.join(d, "pbsd", "relay")
    deadline = time.monotonic() + 10
    while True:
        r = subprocess.run(["postmap", "-q", "127.0.0.1", "hash:" + relay],
                           capture_output=True, text=True, timeout=20)
        if r.returncode == 0 and r.stdout.strip():
            break
        assert time.monotonic() < deadline, (r.returncode, r.stderr)
        time.sleep(0.2)
    r = subprocess.run([os.path.join(os.environ.get(
        "BAILEY_BUILD", os.path.join(REPO, "build")), "bin", "pbsctl"),
        "-f", os.path.join(d, "pbsd", "pbsd.conf"), "list"],
        capture_output=True, text=True, timeout=20)
    assert r.returncode == 0 and "127.0.0.1" in r.stdout, r

    # SIGTERM (as Ctrl-C): everything stops, the PID file goes, the
    # ports close.
    os.killpg(demo.pid, signal.SIGTERM)
    demo.wait(timeout=60)
    assert not os.path.exists(os.path.join(d, "bailey.pid"))
    assert not os.path.exists("/proc/%d" % pid) or \
        status(pid).get("State", "").startswith("Z")
    deadline = time.monotonic() + 15
    while [p for p in PORTS if port_busy(p)]:
        assert time.monotonic() < deadline, \
            [p for p in PORTS if port_busy(p)]
        time.sleep(0.2)
