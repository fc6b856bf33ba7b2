# Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
#
# End-to-end tests of pbsd's remote gateways (issue 6): two real pbsd
# processes on loopback, a gateway-side pbsd forwarding its local events to
# a central pbsd over UDP and TCP (checked in the central Berkeley DB file
# with postmap -q), and a sender written here in Python (hmac/hashlib, an
# independent implementation of the envelope in docs/pbsd.md) that sends
# tampered, stale, replayed and unknown-key envelopes, each of which must be
# dropped and counted.  Also: key file modes (and a FIFO at the key path),
# key rotation, remote_allow, TCP connection slots that peers without the
# key cannot hold (slowloris), and that the default configuration opens no
# network socket.  Runs as root
# in the pytest process; every pbsd is stopped by PID, also on failure.

import hashlib
import hmac
import os
import shutil
import socket
import stat
import struct
import subprocess
import time

import pytest

from pbsd_fixtures import (EV_LOGIN_OK, EV_LOGOUT, EV_SESSION_ALIVE,
                           binpath, pbsd_factory, postmap_q, record,
                           tmp_root)

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("postmap") is None,
    reason="needs root and postfix (postmap)")

AUTH_MAGIC = 0x50425341
KEY_ID_LABEL = b"pbsd remote key id"


# --- an independent sender: the envelope as documented -------------------

def key_id(key):
    return hmac.new(key, KEY_ID_LABEL, hashlib.sha256).digest()[:4]


def envelope(key, rec, ts=None, nonce=None, kid=None, version=1):
    if ts is None:
        ts = int(time.time())
    if nonce is None:
        nonce = os.urandom(16)
    if kid is None:
        kid = key_id(key)
    hdr = (struct.pack(">IBBH", AUTH_MAGIC, version, 0, len(rec)) + kid +
           struct.pack(">Q", ts) + nonce)
    return hdr + rec + hmac.new(key, hdr + rec, hashlib.sha256).digest()


def frame(env):
    return struct.pack(">H", len(env)) + env


def write_key(path, key, mode=0o600):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(key.hex() + "\n")
    os.chmod(path, mode)


def free_udp_port(host="127.0.0.1"):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def free_tcp_port(host="127.0.0.1"):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def inet_socket_inodes(pid):
    """Inodes of the AF_INET/AF_INET6 sockets process pid holds."""
    mine = set()
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            link = os.readlink("/proc/%d/fd/%s" % (pid, fd))
        except OSError:
            continue
        if link.startswith("socket:["):
            mine.add(link[8:-1])
    found = set()
    for table in ("tcp", "tcp6", "udp", "udp6", "raw", "raw6"):
        with open("/proc/%d/net/%s" % (pid, table)) as f:
            for line in f.readlines()[1:]:
                cols = line.split()
                if len(cols) > 9 and cols[9] in mine:
                    found.add((table, cols[9]))
    return found


# --- fixtures ------------------------------------------------------------

@pytest.fixture(scope="module")
def root():
    yield from tmp_root("pbsd-remote.")


@pytest.fixture
def pbsds(root):
    yield from pbsd_factory(root)


@pytest.fixture(scope="module")
def keys(root):
    k = {"main": os.urandom(32), "old": os.urandom(32),
         "other": os.urandom(48)}
    paths = {}
    for name, key in k.items():
        paths[name] = os.path.join(root, "%s.key" % name)
        write_key(paths[name], key)
    return k, paths


def table(p):
    return p.db[:-3]


def central_conf(listen, key_path, extra=""):
    """A TCP listener needs remote_allow (pbsd.conf(5)): loopback unless
    the test sets its own."""
    if any(l.startswith("tcp:") for l in listen) and \
            "remote_allow" not in extra:
        extra += "remote_allow = 127.0.0.0/8 ::1\n"
    return ("".join("remote_listen = %s\n" % l for l in listen) +
            "remote_key = %s\n" % key_path + extra)


def in_db(p, addr):
    return postmap_q(addr, table(p)) == "OK"


# --- tests ---------------------------------------------------------------

def test_default_config_opens_no_network_socket(pbsds):
    p = pbsds("default")
    assert p.proc.poll() is None
    assert inet_socket_inodes(p.proc.pid) == set()
    st = p.stats()
    assert st["remote_received"] == 0 and st["forward_sent"] == 0


def test_key_file_mode_0644_refused(pbsds, keys, root):
    k, paths = keys
    loose = os.path.join(root, "loose.key")
    write_key(loose, k["main"], 0o644)
    p = pbsds("loose", start=False, extra=central_conf(
        ["udp:127.0.0.1:%d" % free_udp_port()], loose))
    with pytest.raises(RuntimeError):
        p.start(timeout=5)
    log = p.logtext()
    assert "remote_key %s" % loose in log
    assert "mode 0644 is group or world accessible" in log
    # Same for a key that is too short, and for a forward_key.
    short = os.path.join(root, "short.key")
    write_key(short, os.urandom(31))
    p = pbsds("short", start=False, extra=central_conf(
        ["udp:127.0.0.1:%d" % free_udp_port()], short))
    with pytest.raises(RuntimeError):
        p.start(timeout=5)
    assert "key shorter than 32 bytes" in p.logtext()
    p = pbsds("loosefwd", start=False, extra=(
        "forward = udp:127.0.0.1:%d\nforward_key = %s\n" %
        (free_udp_port(), loose)))
    with pytest.raises(RuntimeError):
        p.start(timeout=5)
    assert "forward_key %s" % loose in p.logtext()


def test_config_check_pairs(pbsds, keys):
    _, paths = keys
    p = pbsds("pairs", start=False,
              extra="remote_listen = udp:127.0.0.1:7025\n")
    r = subprocess.run([binpath("pbsd"), "-n", "-f", p.conf],
                       capture_output=True, text=True, timeout=10)
    assert r.returncode != 0 and "remote_listen needs remote_key" in r.stderr
    p = pbsds("pairs2", start=False, extra="forward = tcp:[::1]:7025\n")
    r = subprocess.run([binpath("pbsd"), "-n", "-f", p.conf],
                       capture_output=True, text=True, timeout=10)
    assert r.returncode != 0 and "forward and forward_key" in r.stderr
    p = pbsds("pairs3", start=False, extra=central_conf(
        ["udp:127.0.0.1:7025", "tcp:[::1]:7025"], paths["main"],
        "remote_window = 30\nremote_allow = 127.0.0.0/8 ::1\n"))
    r = subprocess.run([binpath("pbsd"), "-n", "-f", p.conf],
                       capture_output=True, text=True, timeout=10)
    assert r.returncode == 0, r.stderr
    # A TCP listener without remote_allow is refused; UDP is not.
    p = pbsds("pairs4", start=False, extra=(
        "remote_listen = tcp:127.0.0.1:7025\nremote_key = %s\n" %
        paths["main"]))
    r = subprocess.run([binpath("pbsd"), "-n", "-f", p.conf],
                       capture_output=True, text=True, timeout=10)
    assert r.returncode != 0
    assert "remote_listen tcp needs remote_allow" in r.stderr
    p = pbsds("pairs5", start=False, extra=(
        "remote_listen = udp:127.0.0.1:7025\nremote_key = %s\n" %
        paths["main"]))
    r = subprocess.run([binpath("pbsd"), "-n", "-f", p.conf],
                       capture_output=True, text=True, timeout=10)
    assert r.returncode == 0, r.stderr


@pytest.mark.parametrize("proto", ["udp", "tcp"])
def test_gateway_forwards_to_central(pbsds, keys, proto):
    k, paths = keys
    port = free_udp_port() if proto == "udp" else free_tcp_port()
    central = pbsds("central-" + proto, extra=central_conf(
        ["%s:127.0.0.1:%d" % (proto, port)], paths["main"]))
    assert inet_socket_inodes(central.proc.pid), "listener not open"
    gw = pbsds("gw-" + proto, extra=(
        "forward = %s:127.0.0.1:%d\nforward_key = %s\n" %
        (proto, port, paths["main"])))
    # A login on the gateway's unix socket reaches the central DB.
    gw.send(EV_LOGIN_OK, "192.0.2.10", "alice")
    central.wait_for(lambda: in_db(central, "192.0.2.10"),
                     what="192.0.2.10 in the central DB")
    gw.wait_for(lambda: in_db(gw, "192.0.2.10"), what="gateway's own DB")
    gw.send(EV_LOGIN_OK, "2001:db8::10", "bob")
    central.wait_for(lambda: in_db(central, "2001:db8::10"),
                     what="IPv6 client in the central DB")
    # Refresh and logout are forwarded too; refresh alone never creates.
    gw.send(EV_SESSION_ALIVE, "192.0.2.10", "alice")
    gw.send(EV_LOGOUT, "192.0.2.10", "alice")
    gw.send(EV_SESSION_ALIVE, "192.0.2.99", "mallory")
    central.wait_for(lambda: central.stats()["remote_accepted"] == 5,
                     what="5 remote events accepted")
    st = central.stats()
    assert st["refreshes"] == 1 and st["logouts"] == 1
    assert st["unknown"] == 1 and st["logins"] == 2
    assert not in_db(central, "192.0.2.99")
    drops = [v for key, v in st.items() if key.startswith("remote_dropped")]
    assert drops and not any(drops), st
    assert gw.stats()["forward_sent"] == 5
    assert gw.stats()["forward_dropped"] == 0
    # Records rejected locally are not forwarded.
    gw.send_raw(record(9, "192.0.2.11"))
    gw.send(EV_LOGIN_OK, "192.0.2.12")
    central.wait_for(lambda: in_db(central, "192.0.2.12"),
                     what="192.0.2.12 in the central DB")
    assert not in_db(central, "192.0.2.11")
    assert gw.stats()["forward_sent"] == 6


def test_tcp_forward_reconnects_after_central_restart(pbsds, keys):
    k, paths = keys
    port = free_tcp_port()
    central = pbsds("central-re", extra=central_conf(
        ["tcp:127.0.0.1:%d" % port], paths["main"]))
    gw = pbsds("gw-re", extra=("forward = tcp:127.0.0.1:%d\n"
                               "forward_key = %s\n" % (port, paths["main"])))
    gw.send(EV_LOGIN_OK, "192.0.2.20")
    central.wait_for(lambda: in_db(central, "192.0.2.20"), what="first")
    central.stop()
    # The gateway notices the close, then keeps reconnecting (socket()
    # after the sandbox: a missing seccomp rule would kill it here).
    time.sleep(1.5)
    central.start()
    gw.send(EV_LOGIN_OK, "192.0.2.21")
    central.wait_for(lambda: in_db(central, "192.0.2.21"), timeout=40,
                     what="event after the central restart")
    assert gw.proc.poll() is None
    assert gw.stats()["forward_connects"] >= 2


def test_python_sender_drops_each_reason_udp(pbsds, keys):
    k, paths = keys
    key = k["main"]
    port = free_udp_port()
    central = pbsds("central-py", extra=central_conf(
        ["udp:127.0.0.1:%d" % port], paths["main"], "remote_window = 60\n"))
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    dst = ("127.0.0.1", port)
    try:
        good = envelope(key, record(EV_LOGIN_OK, "198.51.100.1", "ok"))
        s.sendto(good, dst)
        central.wait_for(lambda: in_db(central, "198.51.100.1"),
                         what="good Python envelope accepted")
        # Replay of the same datagram.
        s.sendto(good, dst)
        # Tampered MAC (last bit), and a tampered record (address).
        env = envelope(key, record(EV_LOGIN_OK, "198.51.100.2"))
        s.sendto(env[:-1] + bytes([env[-1] ^ 1]), dst)
        env = envelope(key, record(EV_LOGIN_OK, "198.51.100.3"))
        i = 36 + 8
        s.sendto(env[:i] + bytes([env[i] ^ 0x80]) + env[i + 1:], dst)
        # Stale: one past the window in both directions.
        now = int(time.time())
        s.sendto(envelope(key, record(EV_LOGIN_OK, "198.51.100.4"),
                          ts=now - 120), dst)
        s.sendto(envelope(key, record(EV_LOGIN_OK, "198.51.100.5"),
                          ts=now + 120), dst)
        # Unknown key id, and a key the central does not have.
        s.sendto(envelope(key, record(EV_LOGIN_OK, "198.51.100.6"),
                          kid=b"\0\0\0\1"), dst)
        s.sendto(envelope(k["other"], record(EV_LOGIN_OK, "198.51.100.7")),
                 dst)
        # Malformed: short, wrong version, and authentic garbage inside.
        s.sendto(good[:50], dst)
        s.sendto(envelope(key, record(EV_LOGIN_OK, "198.51.100.8"),
                          version=2), dst)
        s.sendto(envelope(key, b"\xff" * 13), dst)
        want = {"remote_dropped_replay": 1, "remote_dropped_bad_mac": 2,
                "remote_dropped_stale": 2, "remote_dropped_unknown_key": 2,
                "remote_dropped_malformed": 3}
        central.wait_for(lambda: central.stats()["remote_received"] == 11,
                         what="11 datagrams counted")
        st = central.stats()
        for name, n in want.items():
            assert st[name] == n, (name, st)
        assert st["remote_accepted"] == 1
        assert st["remote_dropped_cache_full"] == 0
        time.sleep(1.2)        # past flush_interval: anything would show
        for a in range(2, 9):
            assert not in_db(central, "198.51.100.%d" % a), a
        assert set(central.entries()) == {"198.51.100.1"}
        assert "remote: 127.0.0.1:" in central.logtext()
        assert ": dropped: " in central.logtext()
    finally:
        s.close()


def test_python_sender_tcp_frames(pbsds, keys):
    k, paths = keys
    key = k["main"]
    port = free_tcp_port()
    central = pbsds("central-tcp", extra=central_conf(
        ["tcp:127.0.0.1:%d" % port], paths["main"],
        "remote_max_connections = 2\nremote_idle_timeout = 2\n"))
    # Three frames in one write, split at odd places.
    stream = b"".join(frame(envelope(key, record(EV_LOGIN_OK,
                                                 "203.0.113.%d" % i)))
                      for i in (1, 2, 3))
    stream += frame(envelope(key, record(EV_LOGIN_OK, "203.0.113.4"),
                             ts=1))
    with socket.create_connection(("127.0.0.1", port), 5) as c:
        for piece in (stream[:1], stream[1:50], stream[50:200],
                      stream[200:]):
            c.sendall(piece)
            time.sleep(0.05)
        central.wait_for(lambda: all(in_db(central, "203.0.113.%d" % i)
                                     for i in (1, 2, 3)),
                         what="three TCP frames")
        # A bad length prefix closes the connection.
        c.sendall(b"\xff\xff")
        c.settimeout(5)
        assert c.recv(1) == b""
    st = central.stats()
    assert st["remote_accepted"] == 3
    assert st["remote_dropped_stale"] == 1
    assert st["remote_dropped_malformed"] == 1
    assert not in_db(central, "203.0.113.4")
    # Connection limit: a third connection takes the slot of the oldest
    # one that has sent no verified frame; when every slot holds a
    # verified peer, a newcomer is refused.
    a = socket.create_connection(("127.0.0.1", port), 5)
    conns = [a]
    try:
        central.wait_for(lambda: central.stats()["remote_connections"] == 1,
                         what="first connection")
        b = socket.create_connection(("127.0.0.1", port), 5)
        conns.append(b)
        central.wait_for(lambda: central.stats()["remote_connections"] == 2,
                         what="two connections")
        c = socket.create_connection(("127.0.0.1", port), 5)
        conns.append(c)
        a.settimeout(5)
        assert a.recv(1) == b""                 # a, the oldest, evicted
        central.wait_for(
            lambda: central.stats()["remote_connections_evicted"] == 1,
            what="eviction")
        for i, conn in ((5, b), (6, c)):
            conn.sendall(frame(envelope(key, record(EV_LOGIN_OK,
                                                    "203.0.113.%d" % i))))
        central.wait_for(lambda: in_db(central, "203.0.113.6") and
                         in_db(central, "203.0.113.5"), what="b and c")
        with socket.create_connection(("127.0.0.1", port), 5) as d:
            d.settimeout(5)
            assert d.recv(1) == b""
        st = central.stats()
        assert st["remote_connections_refused"] == 1
        assert st["remote_connections_evicted"] == 1
        assert st["remote_connections"] == 2
        # Idle connections are closed after remote_idle_timeout.
        central.wait_for(lambda: central.stats()["remote_connections"] == 0,
                         timeout=10, what="idle connections closed")
        assert central.stats()["remote_connections_idle"] == 2
    finally:
        for conn in conns:
            conn.close()


def test_tcp_slowloris_cannot_hold_slots(pbsds, keys):
    """Review F2: two clients without the key announce a maximal frame
    (length 348) and then trickle one byte a second.  Neither bytes nor
    time buy them a slot: a signed frame from a third connection is
    applied, and they are closed at remote_idle_timeout after connecting."""
    k, paths = keys
    port = free_tcp_port()
    central = pbsds("central-slow", extra=central_conf(
        ["tcp:127.0.0.1:%d" % port], paths["main"],
        "remote_max_connections = 2\nremote_idle_timeout = 2\n"))
    slow = []
    try:
        for _ in range(2):
            s = socket.create_connection(("127.0.0.1", port), 5)
            s.sendall(b"\x01\x5c")
            slow.append(s)
        central.wait_for(lambda: central.stats()["remote_connections"] == 2,
                         what="two slow connections")
        closed = [False, False]
        started = time.time()
        for _ in range(4):              # 4 s: past the 2 s idle timeout
            for i, s in enumerate(slow):
                if closed[i]:
                    continue
                try:
                    s.sendall(b"x")
                except OSError:
                    closed[i] = True
            time.sleep(1)
        st = central.stats()
        assert st["remote_connections_idle"] == 2, st
        assert time.time() - started < 10
        # With the table full of slow peers again, a key holder gets in.
        for s in slow:
            s.close()
        slow = []
        for _ in range(2):
            s = socket.create_connection(("127.0.0.1", port), 5)
            s.sendall(b"\x01\x5cxx")
            slow.append(s)
        central.wait_for(lambda: central.stats()["remote_connections"] == 2,
                         what="two slow connections again")
        with socket.create_connection(("127.0.0.1", port), 5) as g:
            g.sendall(frame(envelope(k["main"], record(EV_LOGIN_OK,
                                                       "198.51.100.7"))))
            central.wait_for(lambda: in_db(central, "198.51.100.7"),
                             what="the signed frame applied")
        st = central.stats()
        assert st["remote_connections_refused"] == 0
        assert st["remote_connections_evicted"] == 1
        assert st["remote_accepted"] == 1
    finally:
        for s in slow:
            s.close()


def test_key_file_fifo_refused(pbsds, root):
    """Review L5: a FIFO at the key path is refused at start-up instead of
    blocking pbsd in open() forever."""
    fifo = os.path.join(root, "fifo.key")
    if not os.path.exists(fifo):
        os.mkfifo(fifo, 0o600)
    p = pbsds("fifo", start=False, extra=central_conf(
        ["udp:127.0.0.1:%d" % free_udp_port()], fifo))
    with pytest.raises(RuntimeError):
        p.start(timeout=5)
    assert p.proc.poll() is not None, "pbsd blocked on the FIFO"
    assert "remote_key %s: not a regular file" % fifo in p.logtext()


def test_key_rotation_current_and_previous(pbsds, keys):
    k, paths = keys
    port = free_udp_port()
    central = pbsds("central-rot", extra=central_conf(
        ["udp:127.0.0.1:%d" % port], paths["main"],
        "remote_key_previous = %s\n" % paths["old"]))
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        for key, addr in ((k["main"], "192.0.2.31"), (k["old"], "192.0.2.32"),
                          (k["other"], "192.0.2.33")):
            s.sendto(envelope(key, record(EV_LOGIN_OK, addr)),
                     ("127.0.0.1", port))
    central.wait_for(lambda: central.stats()["remote_received"] == 3,
                     what="three datagrams")
    central.wait_for(lambda: in_db(central, "192.0.2.32"), what="old key")
    assert in_db(central, "192.0.2.31")
    assert not in_db(central, "192.0.2.33")
    assert central.stats()["remote_dropped_unknown_key"] == 1


def test_remote_allow(pbsds, keys):
    k, paths = keys
    port = free_udp_port("127.0.0.1")
    central = pbsds("central-allow", extra=central_conf(
        ["udp:127.0.0.1:%d" % port], paths["main"],
        "remote_allow = 127.0.0.2/32, 10.0.0.0/8\n"))
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        s.sendto(envelope(k["main"], record(EV_LOGIN_OK, "192.0.2.41")),
                 ("127.0.0.1", port))
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.2", 0))
        s.sendto(envelope(k["main"], record(EV_LOGIN_OK, "192.0.2.42")),
                 ("127.0.0.1", port))
    central.wait_for(lambda: in_db(central, "192.0.2.42"),
                     what="allowed source accepted")
    st = central.stats()
    assert st["remote_dropped_denied"] == 1
    assert st["remote_accepted"] == 1
    assert not in_db(central, "192.0.2.41")


def test_key_file_owner_checked(pbsds, keys, root):
    k, _ = keys
    path = os.path.join(root, "daemon.key")
    write_key(path, k["main"])
    os.chown(path, 1, 1)                # "daemon": neither root nor nobody
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    p = pbsds("owner", start=False, extra=central_conf(
        ["udp:127.0.0.1:%d" % free_udp_port()], path))
    with pytest.raises(RuntimeError):
        p.start(timeout=5)
    assert "must be owned by root or pbsd's user" in p.logtext()
    os.chown(path, 65534, 65534)        # pbsd's user (nobody): accepted
    p = pbsds("owner2", extra=central_conf(
        ["udp:127.0.0.1:%d" % free_udp_port()], path))
    assert p.proc.poll() is None
