# Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
#
# End-to-end tests of pbsd's log-tail mode (issue 6): a private Dovecot
# writing its log_path file and a real Perdition 2.2 (Debian package) in
# front of that Dovecot, logging through syslog(3) the way pbsd.conf(5)
# requires: Perdition runs in a private mount namespace whose /dev/log is
# this test's stand-in for rsyslog (SyslogRelay: RFC 3164 lines with a host
# field, control characters escaped as "#012").  Real logins with python's
# imaplib/poplib from distinct loopback source addresses; pbsd (as nobody,
# under its seccomp filter) follows the files and postmap answers from its
# hash table.  Also: failed logins add nothing, rename and copytruncate
# rotation of the live Dovecot log, and attacks through the real gateways:
# user names with line breaks that forge whole lines (Perdition through
# syslog, Perdition's own -F file, which pbsd must refuse altogether, and
# Dovecot, which sanitises them), a user name long enough that Perdition
# cuts the line after a fake status="ok".  Runs as root in the pytest
# process; every process started here is stopped by PID (Perdition by its
# own process group), also when a test fails; the mount namespace goes
# away with Perdition.  Threat row 43.

import imaplib
import os
import poplib
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from dovecot import Dovecot  # noqa: E402
from pbsd_fixtures import Pbsd, free_port, postmap_q, tmp_root  # noqa: E402

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("postmap") is None or
    shutil.which("dovecot") is None,
    reason="needs root, postfix (postmap) and dovecot")

USER, PASSWORD = "lt-alice", "lt-secret"


class SrcIMAP(imaplib.IMAP4):
    """imaplib from a chosen loopback source address."""

    def __init__(self, host, port, source):
        self.source = source
        super().__init__(host, port)

    def _create_socket(self, timeout):
        return socket.create_connection((self.host, self.port), 10,
                                        source_address=(self.source, 0))


class SrcPOP3(poplib.POP3):
    """poplib from a chosen loopback source address."""

    def __init__(self, host, port, source):
        self.source = source
        super().__init__(host, port, timeout=10)

    def _create_socket(self, timeout):
        return socket.create_connection((self.host, self.port), timeout,
                                        source_address=(self.source, 0))


def imap_login(port, source, password=PASSWORD):
    m = SrcIMAP("127.0.0.1", port, source)
    try:
        m.login(USER, password)
        return True
    except imaplib.IMAP4.error:
        return False
    finally:
        try:
            m.logout()
        except (imaplib.IMAP4.error, OSError):
            pass


def pop3_login(port, source, password=PASSWORD):
    p = SrcPOP3("127.0.0.1", port, source)
    try:
        p.user(USER)
        p.pass_(password)
        return True
    except poplib.error_proto:
        return False
    finally:
        try:
            p.quit()
        except (poplib.error_proto, OSError):
            p.close()


@pytest.fixture(scope="module")
def root():
    yield from tmp_root("pbsd-logtail.")


@pytest.fixture(scope="module")
def dovecot(root):
    """A private Dovecot whose log_path file pbsd (nobody) may read."""
    d = Dovecot(os.path.join(root, "dovecot"), free_port(), free_port(),
                users={USER: PASSWORD})
    os.makedirs(d.root, mode=0o755, exist_ok=True)
    with open(d.log, "a"):
        pass
    os.chmod(d.log, 0o644)      # Dovecot keeps the mode of an existing file
    d.start()
    try:
        yield d
    finally:
        d.stop()


@pytest.fixture
def pbsds(root):
    made = []

    def make(name, logtails):
        extra = "".join("logtail = %s\n" % t for t in logtails)
        p = Pbsd(os.path.join(root, "p-" + name), extra=extra)
        made.append(p)
        p.start()
        # The first look at the files happens in pbsd's first loop round.
        p.wait_for(lambda: "following from offset" in p.logtext() or
                   "cannot open, will retry" in p.logtext(),
                   what="logtail start")
        return p
    yield make
    for p in made:
        p.close()


def table(p):
    return p.db[:-3]


def wait_entry(p, addr, timeout=15):
    p.wait_for(lambda: addr in p.entries(), timeout=timeout,
               what="entry %s" % addr)


def test_dovecot_logins(dovecot, pbsds):
    p = pbsds("dovecot", ["dovecot:" + dovecot.log])
    assert not p.proc.poll()
    assert imap_login(dovecot.imap_port, "127.0.0.2")
    assert pop3_login(dovecot.pop3_port, "127.0.0.3")
    assert not imap_login(dovecot.imap_port, "127.0.0.4", "wrong")
    assert not pop3_login(dovecot.pop3_port, "127.0.0.5", "wrong")
    # A success after the failures: once it is in, the failures' lines
    # (written before it) have been read too.
    assert imap_login(dovecot.imap_port, "127.0.0.6")
    wait_entry(p, "127.0.0.6")
    assert postmap_q("127.0.0.2", table(p)) is not None
    assert postmap_q("127.0.0.3", table(p)) is not None
    assert postmap_q("127.0.0.6", table(p)) is not None
    assert postmap_q("127.0.0.4", table(p)) is None
    assert postmap_q("127.0.0.5", table(p)) is None
    log = p.logtext()
    assert "client=127.0.0.2 user=%s proto=imap" % USER in log
    assert "client=127.0.0.3 user=%s proto=pop3" % USER in log
    # The real lines were there, the failed ones included.
    text = dovecot.log_text()
    assert "imap-login: Info: Login: user=<%s>" % USER in text
    assert "rip=127.0.0.4" in text and "auth failed" in text
    st = p.stats()
    assert st["logtail_logins"] == 3
    assert st["logtail_broken"] == 0
    assert st["logins"] == 3


def test_dovecot_no_history(dovecot, pbsds):
    # Logins logged before pbsd started are not replayed.
    assert imap_login(dovecot.imap_port, "127.0.0.7")
    time.sleep(0.5)
    p = pbsds("history", ["dovecot:" + dovecot.log])
    assert imap_login(dovecot.imap_port, "127.0.0.8")
    wait_entry(p, "127.0.0.8")
    assert "127.0.0.7" not in p.entries()


def reopen_log(dovecot):
    r = subprocess.run(["doveadm", "-c", dovecot.conf, "log", "reopen"],
                       capture_output=True, text=True, timeout=20)
    assert r.returncode == 0, r.stderr


def test_dovecot_rotation(dovecot, pbsds):
    p = pbsds("rotation", ["dovecot:" + dovecot.log])
    # Rename: Dovecot goes on writing the old file, the path is absent
    # for a while; then a new file (made by us, so that it is readable)
    # takes Dovecot's lines after "doveadm log reopen".
    os.rename(dovecot.log, dovecot.log + ".1")
    assert imap_login(dovecot.imap_port, "127.0.0.10")    # still old file
    wait_entry(p, "127.0.0.10")
    with open(dovecot.log, "a"):
        pass
    os.chmod(dovecot.log, 0o644)
    reopen_log(dovecot)
    assert pop3_login(dovecot.pop3_port, "127.0.0.11")    # the new file
    wait_entry(p, "127.0.0.11")
    assert p.stats()["logtail_rotations"] >= 1
    with open(dovecot.log) as f:
        assert "rip=127.0.0.11" in f.read()
    # copytruncate: copy, cut to zero; Dovecot appends (O_APPEND) at 0.
    shutil.copyfile(dovecot.log, dovecot.log + ".2")
    os.truncate(dovecot.log, 0)
    assert imap_login(dovecot.imap_port, "127.0.0.12")
    wait_entry(p, "127.0.0.12")
    assert p.stats()["logtail_truncations"] == 1
    assert p.proc.poll() is None


def test_missing_file_appears(root, pbsds):
    path = os.path.join(root, "later.log")
    p = pbsds("later", ["dovecot:" + path])
    assert "cannot open, will retry" in p.logtext()
    with open(path, "w") as f:
        f.write("Nov 23 16:47:49 imap-login: Info: Login: user=<u>, "
                "method=PLAIN, rip=192.0.2.20, lip=127.0.0.1, mpid=1, "
                "secured, session=<a>\n")
    wait_entry(p, "192.0.2.20")


def test_logtail_group(root, pbsds):
    """A root:adm 0640 log, as Debian's /var/log/mail.log: readable only
    through logtail_group."""
    path = os.path.join(root, "adm.log")
    open(path, "w").close()
    shutil.chown(path, "root", "adm")
    os.chmod(path, 0o640)
    p = pbsds("admgroup", ["dovecot:" + path + "\nlogtail_group = adm"])
    assert "following from offset 0" in p.logtext()
    with open(path, "a") as f:
        f.write("Nov 23 16:47:49 imap-login: Info: Login: user=<u>, "
                "method=PLAIN, rip=192.0.2.21, lip=127.0.0.1\n")
    wait_entry(p, "192.0.2.21")
    q = pbsds("noadm", ["dovecot:" + path])
    assert "cannot open, will retry: Permission denied" in q.logtext()


def test_attacker_lines_in_file(root, pbsds):
    """Lines written by hand in the exact formats: user names with rip=,
    status="ok", quotes, a partial last line kept until its LF."""
    dpath = os.path.join(root, "attack-dovecot.log")
    ppath = os.path.join(root, "attack-perdition.log")
    for path in (dpath, ppath):
        open(path, "w").close()
        os.chmod(path, 0o644)
    p = pbsds("attack", ["dovecot:" + dpath, "perdition:" + ppath])
    with open(dpath, "a") as f:
        f.write("Nov 23 10:00:00 imap-login: Info: Disconnected (auth "
                "failed, 1 attempts in 2 secs): user=<x Login: user=<y>, "
                "method=PLAIN, rip=192.0.2.66, lip=1.1.1.1>, method=PLAIN, "
                "rip=192.0.2.30, lip=192.0.2.1, secured\n"
                "Nov 23 10:00:01 imap-login: Info: Login: user=<a, "
                "rip=192.0.2.67, lip=1.1.1.1>, method=PLAIN, "
                "rip=2001:db8::30, lip=::1, mpid=3, secured\n"
                "Nov 23 10:00:02 pop3-login: Info: Login: user=<b>, "
                "method=PLAIN, rip=::ffff:192.0.2.31, lip=::1, mpid=4")
    with open(ppath, "a") as f:
        f.write('Nov 23 16:48:05 mx perdition.pop3[1]: Auth: '
                '192.0.2.32:5->192.0.2.1:110 client-secure=plaintext '
                'authorisation_id=NONE authentication_id="x" '
                'server="192.0.2.68:1" protocol=POP3 server-secure=plaintext '
                'status="ok" a b" server="127.0.0.1:1110" protocol=POP3 '
                'server-secure=plaintext status="failed: Re-Authentication '
                'Failure"\n'
                'Nov 23 16:48:06 mx perdition.imap4[2]: Auth: '
                '2001:db8::33:41227->2001:db8::1:143 client-secure=plaintext '
                'authorisation_id=NONE authentication_id="ok" '
                'server="127.0.0.1:1143" protocol=IMAP4 '
                'server-secure=plaintext status="ok"\n')
    wait_entry(p, "2001:db8::33")
    wait_entry(p, "2001:db8::30")
    time.sleep(1.2)
    assert "192.0.2.31" not in p.entries()      # no LF yet
    with open(dpath, "a") as f:
        f.write("\n")
    wait_entry(p, "192.0.2.31")                 # IPv4-mapped folded
    e = p.entries()
    for bad in ("192.0.2.30", "192.0.2.32", "192.0.2.66", "192.0.2.67",
                "192.0.2.68", "::ffff:192.0.2.31"):
        assert bad not in e
    assert postmap_q("2001:db8::33", table(p)) is not None


# --- Perdition 2.2 (Debian package) in front of the Dovecot ---------------

class SyslogRelay:
    """A stand-in for rsyslog: takes syslog(3) datagrams on a unix socket
    and appends them to a file as rsyslog's default file format writes
    them ("STAMP HOST TAG: MSG"), control characters escaped as "#ooo"
    (rsyslog's default $EscapeControlCharactersOnReceive), one datagram
    one line.  A thread of the pytest process."""

    HOST = b"mx"

    def __init__(self, sock_path, out_path):
        self.sock_path, self.out = sock_path, out_path
        if os.path.exists(sock_path):
            os.unlink(sock_path)
        open(out_path, "w").close()
        os.chmod(out_path, 0o644)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(sock_path)
        os.chmod(sock_path, 0o666)      # Perdition's children are nobody
        self.sock.settimeout(0.2)
        self.stopping = False
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    @classmethod
    def format(cls, data):
        m = re.match(rb"<\d{1,3}>", data)
        if m:
            data = data[m.end():]
        if re.match(rb"[A-Z][a-z]{2} [ 0-9]\d \d\d:\d\d:\d\d ", data):
            stamp, data = data[:15], data[16:]
        else:
            stamp = time.strftime("%b %e %H:%M:%S").encode()
        if data.endswith(b"\n"):
            data = data[:-1]
        esc = b"".join(b"#%03o" % c if c < 0x20 or c == 0x7f else
                       bytes([c]) for c in data)
        return stamp + b" " + cls.HOST + b" " + esc + b"\n"

    def run(self):
        while not self.stopping:
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                return
            with open(self.out, "ab") as f:
                f.write(self.format(data))

    def close(self):
        self.stopping = True
        self.thread.join(5)
        self.sock.close()


def test_syslog_relay_format():
    """The stand-in's format: RSYSLOG_TraditionalFileFormat with the
    host, every control character as '#' and 3 octal digits (rsyslog's
    $EscapeControlCharactersOnReceive, on by default: the familiar "#012"),
    the trailing LF dropped."""
    got = SyslogRelay.format(b"<22>Nov  3 16:48:44 perdition.imap4[7]: "
                             b"Auth: a\nb\tc\n")
    assert got == (b"Nov  3 16:48:44 mx perdition.imap4[7]: Auth: "
                   b"a#012b#011c\n")


class Perdition:
    """perdition.pop3 / perdition.imap4 in the foreground, no popmap: every
    user goes to the Dovecot.  log is a SyslogRelay (Perdition then runs in
    a mount namespace whose /dev/log is the relay's socket; the rest of
    /dev it needs is bound in from the real one) or a path for -F."""

    DEVS = ("null", "zero", "full", "random", "urandom", "tty")

    def __init__(self, prog, port, backend, log):
        self.port = port
        argv = [prog, "--no_daemon", "--bind_address", "127.0.0.1",
                "--listen_port", str(port), "--outgoing_server",
                "127.0.0.1:%d" % backend, "--map_library", "", "--pid_file",
                "", "--no_lookup", "--connect_relog", "0"]
        if isinstance(log, SyslogRelay):
            argv = self.in_namespace(log, argv)
        else:
            argv[1:1] = ["-F", log]
        self.proc = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.time() + 10
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("%s exited" % prog)
            try:
                socket.create_connection(("127.0.0.1", port), 1).close()
                return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("%s does not listen" % prog)

    def in_namespace(self, relay, argv):
        if shutil.which("unshare") is None:
            pytest.skip("unshare(1) missing: cannot give Perdition a "
                        "private /dev/log")
        old = os.path.join(os.path.dirname(relay.sock_path), "realdev")
        os.makedirs(old, exist_ok=True)
        script = ["set -e", 'mount --rbind /dev "$1"',
                  "mount -t tmpfs -o mode=0755 pbsd-test-dev /dev"]
        for d in self.DEVS:
            script.append('touch /dev/%s; mount --bind "$1/%s" /dev/%s' %
                          (d, d, d))
        script += ['touch /dev/log; mount --bind "$2" /dev/log',
                   'shift 2; exec "$@"']
        # unshare and sh exec: Perdition keeps this pid and session.
        return (["unshare", "--mount", "--propagation", "private", "--",
                 "/bin/sh", "-c", "; ".join(script), "sh", old,
                 relay.sock_path] + argv)

    def stop(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)    # it and its children
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)


@pytest.fixture(scope="module")
def perdition(root, dovecot):
    if shutil.which("perdition.pop3") is None:
        pytest.skip("perdition not installed (scripts/deps.sh)")
    relay = SyslogRelay(os.path.join(root, "syslog.sock"),
                        os.path.join(root, "perdition.log"))
    started = []
    try:
        started.append(Perdition("perdition.pop3", free_port(),
                                 dovecot.pop3_port, relay))
        started.append(Perdition("perdition.imap4", free_port(),
                                 dovecot.imap_port, relay))
        yield {"log": relay.out, "relay": relay, "pop3": started[0].port,
               "imap": started[1].port}
    finally:
        for s in started:
            s.stop()
        relay.close()


def perdition_log(perdition):
    with open(perdition["log"], errors="replace") as f:
        return f.read()


def test_perdition_logins(perdition, pbsds):
    p = pbsds("perdition", ["perdition:" + perdition["log"]])
    assert pop3_login(perdition["pop3"], "127.0.0.20")
    assert imap_login(perdition["imap"], "127.0.0.21")
    # Perdition answers a failure after 3 s, then logs it.
    assert not pop3_login(perdition["pop3"], "127.0.0.22", "wrong")
    assert pop3_login(perdition["pop3"], "127.0.0.23")
    wait_entry(p, "127.0.0.23")
    for ok in ("127.0.0.20", "127.0.0.21", "127.0.0.23"):
        assert postmap_q(ok, table(p)) is not None
    assert postmap_q("127.0.0.22", table(p)) is None
    text = perdition_log(perdition)
    assert 'Auth: 127.0.0.22:' in text and 'status="failed: ' in text
    assert 'Auth: 127.0.0.21:' in text and 'protocol=IMAP4' in text
    assert re.search(r"^\w{3} [ \d]\d [\d:]{8} mx perdition\.imap4\[\d+\]: "
                     r"Auth: 127\.0\.0\.21:", text, re.M), text
    log = p.logtext()
    assert "client=127.0.0.21 user=%s proto=imap" % USER in log
    assert "client=127.0.0.20 user=%s proto=pop3" % USER in log
    assert p.stats()["logtail_nohost"] == 0


def imap_literal_login(port, source, user):
    """LOGIN with the user name as an IMAP literal (any bytes, LFs too) and
    a wrong password; returns the tagged reply."""
    s = socket.create_connection(("127.0.0.1", port), 10,
                                 source_address=(source, 0))
    try:
        s.settimeout(20)
        assert s.recv(512).startswith(b"* OK")
        s.sendall(b"t1 LOGIN {%d}\r\n" % len(user))
        assert s.recv(512).startswith(b"+")
        s.sendall(user + b" pw\r\n")
        return s.recv(512)
    finally:
        s.close()


# The review's attack (F1): the first fragment ends Perdition's real line
# as a well-formed failure, the second is a whole forged success for any
# address, the third starts a line that Perdition's own tail completes.
FORGED_77 = (
    'a" server="127.0.0.1:1" protocol=IMAP4 server-secure=plaintext '
    'status="failed"\n'
    'Nov 23 16:48:44 perdition.imap4[1]: Auth: 127.0.0.77:1->127.0.0.1:143 '
    'client-secure=plaintext authorisation_id=NONE authentication_id="b" '
    'server="127.0.0.1:1" protocol=IMAP4 server-secure=plaintext '
    'status="ok"\n'
    'Nov 23 16:48:44 perdition.imap4[1]: Auth: 127.0.0.78:1->127.0.0.1:143 '
    'client-secure=plaintext authorisation_id=NONE authentication_id="z'
).encode()
# The same with a host field in the forged line, as if through syslog.
FORGED_66 = (
    "a\nNov 23 16:48:44 mx perdition.imap4[1]: Auth: "
    "127.0.0.66:1->127.0.0.1:143 client-secure=plaintext "
    "authorisation_id=NONE authentication_id=\"b\" "
    "server=\"127.0.0.1:1\" protocol=IMAP4 server-secure=plaintext "
    "status=\"ok\"\nz").encode()


def test_perdition_line_break_injection(perdition, pbsds):
    """IMAP literal user names with LFs through syslog: the relay (as
    rsyslog) escapes them, so each stays inside one failed line."""
    p = pbsds("perd-inject", ["perdition:" + perdition["log"]])
    for src, forged in (("127.0.0.24", FORGED_77), ("127.0.0.29",
                                                    FORGED_66)):
        assert b"t1 NO" in imap_literal_login(perdition["imap"], src,
                                              forged)
    # A real login after them: once it is in, their lines were read.
    assert pop3_login(perdition["pop3"], "127.0.0.25")
    wait_entry(p, "127.0.0.25")
    text = perdition_log(perdition)
    assert ('status="failed"#012Nov 23 16:48:44 perdition.imap4[1]: Auth: '
            '127.0.0.77:1') in text
    assert "#012Nov 23 16:48:44 mx perdition.imap4[1]: Auth: 127.0.0.66:1" \
        in text
    assert "\nNov 23 16:48:44 " not in text
    e = p.entries()
    for bad in ("127.0.0.77", "127.0.0.78", "127.0.0.66", "127.0.0.24",
                "127.0.0.29"):
        assert bad not in e
    st = p.stats()
    assert st["logtail_logins"] == 1 and st["logtail_nohost"] == 0


def test_perdition_own_file_refused(root, dovecot, pbsds):
    """Perdition's own -F file keeps the LFs: the review's attack added
    127.0.0.77 there.  Its lines have no syslog host, so pbsd takes no
    login from that file at all, the real one included."""
    if shutil.which("perdition.imap4") is None:
        pytest.skip("perdition not installed (scripts/deps.sh)")
    log = os.path.join(root, "perdition-F.log")
    open(log, "w").close()
    # Perdition's children reopen the file after dropping to nobody.
    shutil.chown(log, "nobody")
    os.chmod(log, 0o644)
    p = pbsds("perd-own-file", ["perdition:" + log])
    perd = Perdition("perdition.imap4", free_port(), dovecot.imap_port, log)
    try:
        assert b"t1 NO" in imap_literal_login(perd.port, "127.0.0.24",
                                              FORGED_77)
        assert imap_login(perd.port, "127.0.0.27")
        # The attack's three lines and the real login's one.
        p.wait_for(lambda: p.stats()["logtail_nohost"] >= 4,
                   what="the -F lines")
    finally:
        perd.stop()
    with open(log, errors="replace") as f:
        text = f.read()
    assert "\nNov 23 16:48:44 perdition.imap4[1]: Auth: 127.0.0.77:1" in text
    assert "Auth: 127.0.0.27:" in text and 'status="ok"' in text
    assert p.entries() == {}
    st = p.stats()
    assert st["logtail_logins"] == 0 and st["logtail_broken"] >= 4
    assert "without a syslog host" in p.logtext()


def test_dovecot_line_break_user(dovecot, pbsds):
    """The same attack on Dovecot's log_path file: Dovecot writes '?' for
    control characters in user names (str_sanitize), so no line is
    forged.  Shown here with the real Dovecot."""
    p = pbsds("dov-inject", ["dovecot:" + dovecot.log])
    forged = ("a\nNov 23 16:48:44 imap-login: Info: Login: user=<b>, "
              "method=PLAIN, rip=127.0.0.79, lip=127.0.0.1, mpid=1, "
              "secured, session=<x>\nz").encode()
    assert b"t1 NO" in imap_literal_login(dovecot.imap_port, "127.0.0.30",
                                          forged)
    assert imap_login(dovecot.imap_port, "127.0.0.31")
    wait_entry(p, "127.0.0.31")
    text = dovecot.log_text()
    assert "a?Nov 23 16:48:44 imap-login: Info: Login: user=<b>" in text
    assert "\nNov 23 16:48:44 imap-login" not in text
    e = p.entries()
    assert "127.0.0.79" not in e and "127.0.0.30" not in e
    assert p.stats()["logtail_broken"] == 0


def readline(s):
    data = b""
    while not data.endswith(b"\r\n"):
        chunk = s.recv(8192)
        if not chunk:
            break
        data += chunk
    return data


def test_perdition_truncation_attack(perdition, pbsds):
    """A user name that makes Perdition's 4096-byte message end in a fake
    status="ok" (measured: it cuts the message at 4095 bytes)."""
    p = pbsds("perd-trunc", ["perdition:" + perdition["log"]])
    # Dovecot refuses a 4 KB LOGIN ("Input buffer full"), so this
    # Perdition's back end is a closed port: status="failed: Could not
    # connect to server", with the whole user name in the line.
    closed = free_port()
    perd = Perdition("perdition.imap4", free_port(), closed,
                     perdition["relay"])
    try:
        trunc_attack(p, perd.port)
    finally:
        perd.stop()
    line = [ln for ln in perdition_log(perdition).splitlines()
            if "Auth: 127.0.0.26:" in ln]
    assert len(line) == 1 and line[0].endswith('status="ok"')
    assert "127.0.0.26" not in p.entries()
    assert "may be truncated" in p.logtext()


def trunc_attack(p, port):
    src = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    src.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    src.bind(("127.0.0.26", 0))
    sport = src.getsockname()[1]
    # POP3 USER takes no spaces in Perdition: an IMAP literal does.
    head = ("Auth: 127.0.0.26:%d->127.0.0.1:%d client-secure=plaintext "
            "authorisation_id=NONE authentication_id=\"" %
            (sport, port))
    fake = ('" server="127.0.0.1:1" protocol=IMAP4 server-secure=plaintext '
            'status="ok"')
    user = ("A" * (4095 - len(head) - len(fake)) + fake).encode()
    try:
        src.settimeout(20)
        src.connect(("127.0.0.1", port))
        assert readline(src).startswith(b"* OK")
        src.sendall(b"t1 LOGIN {%d}\r\n" % len(user))
        assert readline(src).startswith(b"+")
        src.sendall(user + b" wrong\r\n")
        assert readline(src).startswith(b"t1 ")
    finally:
        src.close()
    p.wait_for(lambda: p.stats()["logtail_broken"] >= 1,
               what="truncated line")
