# Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
#
# The destination policy end to end (threat row 8, SSRF through
# user@host:port; docs/policy.md).  Runs in the pytest process as root on
# loopback only.  Trap listeners on 127.0.0.1, 127.0.0.2 and ::1 count
# every connection bailey's dialer makes to them; a refused destination
# must cost zero connections, get a clean NO / -ERR and one
# "event=policy-refused" log line.  The /etc/hosts case runs bailey in a
# private mount namespace (unshare -m) with a hosts file bind-mounted over
# /etc/hosts inside it only: the real /etc/hosts is never touched.  Every
# listener and process started here is stopped at teardown, also when a
# test fails.

import os
import re
import shutil
import socket
import subprocess
import threading
import time

import pytest

from bailey_harness import HOST, bailey_binary, free_port
from dovecot import wait_port
from rawclient import Raw, imap_login_works, pop3_login_works

REFUSED_RE = r"event=policy-refused"


class Trap:
    """A TCP listener that only counts the connections it accepts."""

    def __init__(self, addr, port):
        fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
        self.addr = addr
        self.port = port
        self.count = 0
        self.sock = socket.socket(fam, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((addr, port))
        self.sock.listen(64)
        self.sock.settimeout(0.1)
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._loop, daemon=True)
        self._t.start()

    def _loop(self):
        while not self._stop.is_set():
            try:
                c, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            self.count += 1
            c.close()

    def stop(self):
        self._stop.set()
        self._t.join(timeout=5)
        self.sock.close()


@pytest.fixture
def traps():
    """make(addr, port) -> a started Trap, stopped at teardown."""
    made = []

    def make(addr, port):
        t = Trap(addr, port)
        made.append(t)
        return t

    yield make
    for t in made:
        t.stop()


def has_ipv6_loopback():
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


def require_policy_grammar(b):
    """Skips (with a message) while bailey does not know the policy
    statements yet; any other config error fails the test."""
    rc, out = b.check_config()
    m = re.search(r'unknown keyword "(policy|allow)"', out)
    if rc != 0 and m:
        pytest.skip("destination policy not integrated into bailey.conf "
                    "yet (%s)" % m.group(0))
    assert rc == 0, out


def imap_quote(s):
    return b'"' + s.replace(b"\\", b"\\\\").replace(b'"', b'\\"') + b'"'


def imap_login(port, user, password):
    r = Raw(port)
    try:
        out = r.cmd(b"a LOGIN " + imap_quote(user) + b" " +
                    imap_quote(password) + b"\r\n", rb"^a ")
    finally:
        r.close()
    return out[-1]


def pop3_login(port, user, password):
    """Returns the first -ERR line, or the PASS reply."""
    r = Raw(port)
    try:
        ln = r.cmd(b"USER " + user + b"\r\n", rb"^[+-]")[-1]
        if ln.startswith(b"-ERR"):
            return ln
        return r.cmd(b"PASS " + password + b"\r\n", rb"^[+-]")[-1]
    finally:
        r.close()


def refused_count(b):
    return len(b.loggrep(REFUSED_RE))


def ssrf_cases(trap_port):
    """Client login names that must never reach a trap.  Each is either
    malformed or points at loopback/unspecified/link-local addresses."""
    t = str(trap_port).encode()
    cases = [
        b"@127.0.0.1:" + t,
        b"@127.0.0.2:" + t,
        b"@0.0.0.0:" + t,                  # connect(0.0.0.0) is local
        b"@[::ffff:127.0.0.1]:" + t,
        b"@[::ffff:7f00:1]:" + t,
        b"@[::127.0.0.1]:" + t,
        b"@2130706433:" + t,
        b"@0x7f000001:" + t,
        b"@0177.0.0.1:" + t,
        b"@127.1:" + t,
        b"@169.254.169.254:80",
        b"@host.example.net:0",
        b"@host.example.net:65536",
        b"@[::1:" + t,
        b"@a@b",
        b"@host%00evil",
        b"@host.example.net%00.evil:" + t,
        b"@ 127.0.0.1:" + t,
    ]
    if has_ipv6_loopback():
        cases += [b"@[::1]:" + t, b"@[::]:" + t, b"@[0:0::1]:" + t]
    return cases


def ssrf_config(trap_port):
    # "The internet" by CIDR plus the trap's port: only the special-range
    # rules stand between the client and the trap.
    return ("policy user-host on\n"
            "allow host *.example.net\n"
            "allow net 0.0.0.0/0\n"
            "allow net ::/0\n"
            "allow port 143,993,%d\n" % trap_port)


def test_row8_ssrf_refused(bailey_factory, traps, mailbox, isolation):
    tport = free_port()
    tr = [traps("127.0.0.1", tport), traps("127.0.0.2", tport)]
    if has_ipv6_loopback():
        tr.append(traps("::1", tport))
    b = bailey_factory(isolation=isolation, start=False,
                       extra=ssrf_config(tport))
    require_policy_grammar(b)
    b.start()
    user = mailbox.user.encode()
    pw = mailbox.password.encode()
    for suffix in ssrf_cases(tport):
        name = user + suffix
        before = refused_count(b)
        reply = imap_login(b.imap_port, name, pw)
        assert reply.startswith(b"a NO"), (name, reply)
        b.wait_log(REFUSED_RE, count=before + 1)
        if b" " not in name:
            before = refused_count(b)
            reply = pop3_login(b.pop3_port, name, pw)
            assert reply.startswith(b"-ERR"), (name, reply)
            b.wait_log(REFUSED_RE, count=before + 1)
    time.sleep(0.5)                      # let late connects show up
    for t in tr:
        assert t.count == 0, (t.addr, t.port, t.count)
    assert not b.loggrep(r"connect \S*169\.254\.")
    assert b.alive()
    # Refusals are logged without the password.
    assert pw not in b.log_bytes()


def test_row8_user_host_off_by_default(bailey_factory, traps, mailbox):
    """Without "policy user-host on", user@host is just a user name: it
    goes to the configured server (Dovecot says NO), never to the host."""
    tport = free_port()
    trap = traps("127.0.0.1", tport)
    b = bailey_factory(extra="allow net 127.0.0.0/8\n"
                       "allow port %d\n" % tport, start=False)
    require_policy_grammar(b)
    b.start()
    name = ("%s@127.0.0.1:%d" % (mailbox.user, tport)).encode()
    reply = imap_login(b.imap_port, name, mailbox.password.encode())
    assert reply.startswith(b"a NO"), reply
    reply = pop3_login(b.pop3_port, name, mailbox.password.encode())
    assert reply.startswith(b"-ERR"), reply
    time.sleep(0.3)
    assert trap.count == 0
    assert imap_login_works(b.imap_port, mailbox.user, mailbox.password)


def allowed_config(dovecot, extra=""):
    return ("policy user-host on\n"
            "allow host good.test\n"
            "allow host evil.test\n"
            "allow net 127.0.0.1/32\n"
            "allow port %d,%d\n" % (dovecot.imap_port, dovecot.pop3_port) +
            extra)


def test_row8_allowed_host_works(bailey_factory, dovecot, filled_mailbox,
                                 traps):
    """127.0.0.1 listed explicitly by CIDR with Dovecot's ports: the
    client may name it; anything else on loopback stays refused."""
    mb = filled_mailbox
    other = traps("127.0.0.1", free_port())      # right address, bad port
    b = bailey_factory(imap_backend=None, pop3_backend=None, start=False,
                       extra=allowed_config(dovecot))
    require_policy_grammar(b)
    b.start()
    assert imap_login_works(
        b.imap_port, "%s@127.0.0.1:%d" % (mb.user, dovecot.imap_port),
        mb.password)
    assert pop3_login_works(
        b.pop3_port, "%s@127.0.0.1:%d" % (mb.user, dovecot.pop3_port),
        mb.password)
    before = refused_count(b)
    name = ("%s@127.0.0.1:%d" % (mb.user, other.port)).encode()
    assert imap_login(b.imap_port, name, mb.password.encode()).startswith(
        b"a NO")
    b.wait_log(REFUSED_RE, count=before + 1)
    time.sleep(0.3)
    assert other.count == 0


def start_with_hosts(b, hosts_file, timeout=20):
    """Starts bailey `b` (made with start=False) in a private mount
    namespace in which `hosts_file` is bind-mounted over /etc/hosts.
    b.stop() stops it as usual (same PID, own process group)."""
    log = open(b.logfile, "ab")
    try:
        b.proc = subprocess.Popen(
            ["unshare", "-m", "--propagation", "private", "sh", "-c",
             'mount --bind "$1" /etc/hosts && exec "$2" -d -f "$3"',
             "sh", hosts_file, bailey_binary(), b.conf],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log,
            start_new_session=True)
    finally:
        log.close()
    try:
        wait_port(HOST, b.imap_port, timeout, b.proc, b"* OK")
        wait_port(HOST, b.pop3_port, timeout, b.proc, b"+OK")
    except Exception:
        b.stop()
        raise


def namespace_works(tmpdir):
    """True if `unshare -m` plus a bind mount over /etc/hosts works here
    (root, util-linux, no seccomp/AppArmor in the way)."""
    if shutil.which("unshare") is None or os.geteuid() != 0:
        return False
    probe = os.path.join(tmpdir, "hosts.probe")
    with open(probe, "w") as f:
        f.write("127.0.0.2 bailey-probe.test\n")
    r = subprocess.run(
        ["unshare", "-m", "--propagation", "private", "sh", "-c",
         'mount --bind "$1" /etc/hosts && getent hosts bailey-probe.test',
         "sh", probe], capture_output=True, timeout=10)
    return r.returncode == 0 and b"127.0.0.2" in r.stdout


def test_row8_hosts_file_rebinding(bailey_factory, dovecot, filled_mailbox,
                                   traps, tmp_path):
    """An allowed name whose address (from /etc/hosts, as from DNS) is
    forbidden is refused after resolution, with no connection; an allowed
    name resolving to an allowed address works (so the hosts file really
    is consulted)."""
    mb = filled_mailbox
    if not namespace_works(str(tmp_path)):
        pytest.skip("cannot bind-mount a private /etc/hosts with "
                    "unshare -m here (need root and util-linux)")
    # Dovecot listens on 127.0.0.1 only, so 127.0.0.2 with its port is
    # free: a trap there is what evil.test would reach.
    trap = traps("127.0.0.2", dovecot.imap_port)
    trap_pop = traps("127.0.0.2", dovecot.pop3_port)
    hosts = os.path.join(str(tmp_path), "hosts")
    with open(hosts, "w") as f:
        f.write("127.0.0.1 localhost\n"
                "127.0.0.1 good.test\n"
                "127.0.0.2 evil.test\n"
                "169.254.169.254 meta.good.test\n")
    os.chmod(str(tmp_path), 0o755)
    os.chmod(hosts, 0o644)
    b = bailey_factory(imap_backend=None, pop3_backend=None, start=False,
                       extra=allowed_config(dovecot,
                                            "allow host *.good.test\n"))
    require_policy_grammar(b)
    start_with_hosts(b, hosts)
    assert imap_login_works(
        b.imap_port, "%s@good.test:%d" % (mb.user, dovecot.imap_port),
        mb.password)
    for host in (b"evil.test", b"meta.good.test"):
        name = mb.user.encode() + b"@" + host + b":%d" % dovecot.imap_port
        before = refused_count(b)
        reply = imap_login(b.imap_port, name, mb.password.encode())
        assert reply.startswith(b"a NO"), (name, reply)
        b.wait_log(REFUSED_RE, count=before + 1)
        name = mb.user.encode() + b"@" + host + b":%d" % dovecot.pop3_port
        before = refused_count(b)
        reply = pop3_login(b.pop3_port, name, mb.password.encode())
        assert reply.startswith(b"-ERR"), (name, reply)
        b.wait_log(REFUSED_RE, count=before + 1)
    time.sleep(0.5)
    assert trap.count == 0
    assert trap_pop.count == 0
    assert not b.loggrep(r"connect \S*169\.254\.")
