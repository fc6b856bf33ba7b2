# Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
#
# End-to-end tests of pbsd's log-tail mode (issue 6): a private Dovecot
# writing its log_path file and a real Perdition 2.2 (Debian package)
# writing its -F log file in front of that Dovecot; real logins with
# python's imaplib/poplib from distinct loopback source addresses; pbsd (as
# nobody, under its seccomp filter) follows the files and postmap answers
# from its hash table.  Also: failed logins add nothing, rename and
# copytruncate rotation of the live Dovecot log, and two attacks through
# the real Perdition (a user name with a line break that forges a line, a
# user name long enough that Perdition cuts the line after a fake
# status="ok").  Runs as root in the pytest process; every process started
# here is stopped by PID (Perdition by its own process group), also when a
# test fails.  Threat row 43.

import imaplib
import os
import poplib
import shutil
import signal
import socket
import subprocess
import sys
import time

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from dovecot import Dovecot  # noqa: E402
from pbsd_fixtures import Pbsd, free_port, make_tmpdir, postmap_q  # noqa: E402

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
    d = make_tmpdir("pbsd-logtail.")
    yield d
    if not os.environ.get("BAILEY_E2E_KEEP"):
        shutil.rmtree(d, ignore_errors=True)


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
        f.write('Nov 23 16:48:05 perdition.pop3[1]: Auth: '
                '192.0.2.32:5->192.0.2.1:110 client-secure=plaintext '
                'authorisation_id=NONE authentication_id="x" '
                'server="192.0.2.68:1" protocol=POP3 server-secure=plaintext '
                'status="ok" a b" server="127.0.0.1:1110" protocol=POP3 '
                'server-secure=plaintext status="failed: Re-Authentication '
                'Failure"\n'
                'Nov 23 16:48:06 perdition.imap4[2]: Auth: '
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

class Perdition:
    """perdition.pop3 / perdition.imap4 in the foreground, logging to its
    own file (-F /path), no popmap: every user goes to the Dovecot."""

    def __init__(self, prog, port, backend, log):
        self.port = port
        self.proc = subprocess.Popen(
            [prog, "--no_daemon", "-F", log, "--bind_address", "127.0.0.1",
             "--listen_port", str(port), "--outgoing_server",
             "127.0.0.1:%d" % backend, "--map_library", "", "--pid_file",
             "", "--no_lookup", "--connect_relog", "0"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
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
    log = os.path.join(root, "perdition.log")
    open(log, "w").close()
    # Perdition's children reopen the file after dropping to nobody.
    shutil.chown(log, "nobody")
    os.chmod(log, 0o644)
    started = []
    try:
        started.append(Perdition("perdition.pop3", free_port(),
                                 dovecot.pop3_port, log))
        started.append(Perdition("perdition.imap4", free_port(),
                                 dovecot.imap_port, log))
        yield {"log": log, "pop3": started[0].port,
               "imap": started[1].port}
    finally:
        for s in started:
            s.stop()


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
    log = p.logtext()
    assert "client=127.0.0.21 user=%s proto=imap" % USER in log
    assert "client=127.0.0.20 user=%s proto=pop3" % USER in log


def test_perdition_line_break_injection(perdition, pbsds):
    """An IMAP literal user name with LFs: Perdition writes it raw, so a
    whole forged success line appears in its file."""
    p = pbsds("perd-inject", ["perdition:" + perdition["log"]])
    forged = ("a\nNov 23 16:48:44 perdition.imap4[1]: Auth: "
              "127.0.0.66:1->127.0.0.1:143 client-secure=plaintext "
              "authorisation_id=NONE authentication_id=\"b\" "
              "server=\"127.0.0.1:1\" protocol=IMAP4 server-secure=plaintext "
              "status=\"ok\"\nz").encode()
    s = socket.create_connection(("127.0.0.1", perdition["imap"]), 10,
                                 source_address=("127.0.0.24", 0))
    try:
        s.settimeout(20)
        assert s.recv(512).startswith(b"* OK")
        s.sendall(b"t1 LOGIN {%d}\r\n" % len(forged))
        assert s.recv(512).startswith(b"+")
        s.sendall(forged + b" pw\r\n")
        assert b"t1 NO" in s.recv(512)
    finally:
        s.close()
    p.wait_for(lambda: p.stats()["logtail_broken"] >= 1,
               what="broken line")
    assert "\nNov 23 16:48:44 perdition.imap4[1]: Auth: 127.0.0.66:1" in \
        perdition_log(perdition)
    time.sleep(1)
    e = p.entries()
    assert "127.0.0.66" not in e and "127.0.0.24" not in e
    assert p.stats()["logtail_quarantined"] >= 1
    # After the quarantine, real logins count again.
    time.sleep(2)
    assert pop3_login(perdition["pop3"], "127.0.0.25")
    wait_entry(p, "127.0.0.25")


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
                     perdition["log"])
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
