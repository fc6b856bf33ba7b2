# Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
#
# Private keys live in the keyholder only: a worker's memory never holds
# the private scalar (the keyholder's does: the check can fail), only the
# keyholder ever opens the key file (strace), RSA keys need an explicit
# opt-in, and a restarted keyholder is re-paired with the workers.

import os
import re
import signal
import ssl
import socket
import subprocess
import tempfile

import pytest

from bailey_harness import HOST, bailey_binary, build_dir, free_port
from rawclient import wait_for
from test_supervision import pids_of
from test_tls import cert, certs  # noqa: F401  (fixture)


def private_scalar(keyfile):
    out = subprocess.run(["openssl", "pkey", "-in", keyfile, "-text",
                          "-noout"], capture_output=True, text=True,
                         check=True).stdout
    m = re.search(r"priv:\s*\n((?:\s+[0-9a-f:]+\n)+)", out)
    return bytes.fromhex(re.sub(r"[\s:]", "", m.group(1)))[-32:]


def memory_contains(pid, needle):
    """Scans every readable mapping of pid for needle."""
    with open("/proc/%d/maps" % pid) as maps, \
            open("/proc/%d/mem" % pid, "rb", 0) as mem:
        for line in maps:
            addr, perms = line.split()[:2]
            if not perms.startswith("r"):
                continue
            lo, hi = (int(x, 16) for x in addr.split("-"))
            if hi - lo > (256 << 20):
                continue
            try:
                mem.seek(lo)
                if needle in mem.read(hi - lo):
                    return True
            except (OSError, ValueError, OverflowError):
                continue
    return False


def handshakes(port, certs, n=5, **kw):
    ctx = ssl.create_default_context(cafile=cert(certs, "ca.pem"))
    for v in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
        ctx.minimum_version = ctx.maximum_version = v
        for _ in range(n):
            s = ctx.wrap_socket(socket.create_connection((HOST, port)),
                                server_hostname="localhost")
            assert s.recv(100).startswith(b"* OK")
            s.close()


def tls_extra(certs, port, key="ec", more=""):
    return ('certificate "%s" key "%s"\nlisten imap on 127.0.0.1 port %d '
            'tls implicit\n%s' % (cert(certs, key + ".pem"),
                                  cert(certs, key + ".key"), port, more))


def test_worker_memory_holds_no_private_key(bailey_factory, certs):
    port = free_port()
    b = bailey_factory(extra=tls_extra(certs, port))
    handshakes(port, certs)
    secret = private_scalar(cert(certs, "ec.key"))
    workers = pids_of(b, "worker")
    keyholder = pids_of(b, "keyholder")
    assert workers and len(keyholder) == 1
    # mbedTLS keeps the scalar as little-endian limbs: look for both
    # byte orders.  The check can fail: the keyholder does hold it.
    forms = (secret, secret[::-1])
    assert any(memory_contains(keyholder[0], f) for f in forms)
    for w in workers:
        assert not any(memory_contains(w, f) for f in forms), w
        for fd in os.listdir("/proc/%d/fd" % w):
            try:
                target = os.readlink("/proc/%d/fd/%s" % (w, fd))
            except OSError:
                continue
            assert not target.endswith(".key"), target


@pytest.mark.skipif(
    os.path.basename(os.path.normpath(build_dir())).endswith("-san"),
    reason="strace of an ASan build: checked in the normal build")
def test_only_keyholder_reads_the_key_file(state_root, certs):
    root = tempfile.mkdtemp(prefix="strace.", dir=state_root)
    port = free_port()
    conf = os.path.join(root, "bailey.conf")
    with open(conf, "w") as f:
        f.write("workers 2\nlog level debug\n" + tls_extra(certs, port))
    trace = os.path.join(root, "trace")
    log = open(os.path.join(root, "bailey.log"), "wb")
    p = subprocess.Popen(["strace", "-f", "-qq", "-e", "trace=open,openat",
                          "-o", trace, bailey_binary(), "-d", "-f", conf],
                         stdout=log, stderr=log, start_new_session=True)
    try:
        assert wait_for(lambda: _port_open(port), 20)
        handshakes(port, certs, n=2)
    finally:
        os.killpg(p.pid, signal.SIGTERM)
        p.wait(20)
        log.close()
    with open(os.path.join(root, "bailey.log")) as f:
        m = re.search(r"spawned keyholder 0 pid (\d+)", f.read())
    kh = int(m.group(1))
    openers = set()
    with open(trace) as f:
        for line in f:
            if "ec.key" in line and "= -1" not in line:
                openers.add(int(line.split()[0]))
    assert openers == {kh}, (openers, kh)


def _port_open(port):
    s = socket.socket()
    try:
        s.connect((HOST, port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def test_rsa_needs_explicit_opt_in(bailey_factory, state_root, certs):
    port = free_port()
    conf = os.path.join(state_root, "rsa.conf")
    with open(conf, "w") as f:
        f.write(tls_extra(certs, port, key="rsa"))
    r = subprocess.run([bailey_binary(), "-n", "-f", conf],
                       capture_output=True, text=True)
    assert r.returncode == 1 and "tls-rsa-in-worker" in r.stderr
    b = bailey_factory(extra=tls_extra(certs, port, key="rsa",
                                       more="tls-rsa-in-worker yes\n"))
    handshakes(port, certs, n=2)
    assert b.alive()


def test_keyholder_restart_repairs_workers(bailey_factory, certs):
    port = free_port()
    b = bailey_factory(extra=tls_extra(certs, port))
    handshakes(port, certs, n=1)
    victim = pids_of(b, "keyholder")[0]
    os.kill(victim, signal.SIGKILL)
    assert b.wait_log(r"keyholder 0 \(pid %d\) killed" % victim)
    assert wait_for(lambda: len(pids_of(b, "keyholder")) == 1 and
                    victim not in pids_of(b, "keyholder"), 5)

    def works():
        try:
            handshakes(port, certs, n=1)
            return True
        except (OSError, ssl.SSLError, AssertionError):
            return False
    assert wait_for(works, 5)
