# Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
#
# A worker that makes a forbidden system call dies of SIGSYS, the parent
# logs it by name and restarts it, and sessions in other workers carry on
# (issue 5).  Uses the test build build/testhooks/bailey (make
# build/testhooks/bailey; `make e2e` and `make check` build it), whose
# workers answer the pre-login command "XBAILEYTEST SYSCALL" with a
# socket(2) call their seccomp filter forbids (gateway/testhooks.c).  The
# production binary must treat the same command as any unknown one.
#
# Runs as root in the pytest process; every bailey it starts is stopped by
# the bailey_factory fixture, even on failure.

import os
import re
import socket
import time

import pytest

import bailey_harness
from bailey_harness import build_dir, child_roles
from rawclient import Raw, imap_login_works, pop3_login_works, wait_for

SIGSYS = 31
KILLED_RE = (r"worker (?P<index>\d+) \(pid (?P<pid>\d+)\) killed by signal "
             r"31 \(SIGSYS, [^)]*\): a system call its seccomp filter "
             r"forbids")

pytestmark = pytest.mark.skipif(os.geteuid() != 0,
                                reason="the sandbox e2e tests run as root")


def hooks_binary():
    return os.path.join(build_dir(), "testhooks", "bailey")


@pytest.fixture
def hooked(monkeypatch):
    """bailey_factory starts the test build instead of the real one."""
    path = hooks_binary()
    assert os.access(path, os.X_OK), (
        "%s is missing: make %s (make e2e and make check build it)"
        % (path, os.path.relpath(path)))
    monkeypatch.setattr(bailey_harness, "bailey_binary", lambda: path)
    return path


def workers_of(b):
    return sorted(p for p, r in child_roles(b.proc.pid).items()
                  if r == "worker")


def _socket_inodes(pid):
    out = set()
    try:
        fds = os.listdir("/proc/%d/fd" % pid)
    except OSError:
        return out
    for fd in fds:
        try:
            target = os.readlink("/proc/%d/fd/%s" % (pid, fd))
        except OSError:
            continue
        m = re.match(r"socket:\[(\d+)\]$", target)
        if m:
            out.add(m.group(1))
    return out


def _server_inode(server_port, client_port):
    """The inode of bailey's end of the loopback TCP connection
    127.0.0.1:client_port -> 127.0.0.1:server_port (from /proc/net/tcp)."""
    want_local = "0100007F:%04X" % server_port
    want_remote = "0100007F:%04X" % client_port
    with open("/proc/net/tcp") as f:
        next(f)
        for line in f:
            parts = line.split()
            if parts[1] == want_local and parts[2] == want_remote:
                return parts[9]
    return None


def worker_of(b, raw, server_port):
    """The pid of the worker that holds the connection of raw (None if
    no worker has it)."""
    client_port = raw.sock.getsockname()[1]
    inode = _server_inode(server_port, client_port)
    if inode is None or inode == "0":
        return None
    for pid in workers_of(b):
        if inode in _socket_inodes(pid):
            return pid
    return None


def login(port, mb):
    r = Raw(port)
    out = r.cmd(b"a LOGIN %s %s\r\n" % (mb.user.encode(),
                                        mb.password.encode()), rb"^a ")
    assert out[-1].startswith(b"a OK"), out
    return r


def fetch_works(r, tag):
    out = r.cmd(b"%s SELECT INBOX\r\n" % tag, rb"^%s " % tag)
    assert out[-1].startswith(tag + b" OK"), out
    tag2 = tag + b"f"
    out = r.cmd(b"%s FETCH 1 (FLAGS RFC822.SIZE)\r\n" % tag2,
                rb"^%s " % tag2)
    assert out[-1].startswith(tag2 + b" OK"), out
    assert any(b"FETCH" in ln and b"RFC822.SIZE" in ln for ln in out), out


def connect_on_other_worker(b, port, avoid, tries=40):
    """A pre-login connection held by a worker other than `avoid`."""
    for _ in range(tries):
        r = Raw(port)
        owner = None
        deadline = time.monotonic() + 2
        while owner is None and time.monotonic() < deadline:
            owner = worker_of(b, r, port)
            if owner is None:
                time.sleep(0.02)
        if owner is not None and owner != avoid:
            return r, owner
        r.close()
    raise AssertionError("no connection landed on a worker other than %d"
                         % avoid)


def send_hook(r, imap=True):
    r.send(b"h XBAILEYTEST SYSCALL\r\n" if imap else
           b"XBAILEYTEST SYSCALL\r\n")
    # The worker dies before it answers: the connection just closes.
    got = b""
    r.sock.settimeout(5)
    try:
        while True:
            data = r.sock.recv(4096)
            if not data:
                break
            got += data
    except (ConnectionResetError, socket.timeout) as e:
        if isinstance(e, socket.timeout):
            raise AssertionError("the connection stayed open after the "
                                 "forbidden call (got %r)" % got)
    assert got == b"", "the worker answered instead of dying: %r" % got


def test_shared_worker_dies_and_is_restarted(hooked, bailey_factory,
                                             filled_mailbox):
    mb = filled_mailbox
    b = bailey_factory(isolation="shared", workers=2)
    assert wait_for(lambda: len(workers_of(b)) == 2, 5)
    a = login(b.imap_port, mb)
    a_worker = worker_of(b, a, b.imap_port)
    assert a_worker is not None
    victim_conn, victim = connect_on_other_worker(b, b.imap_port, a_worker)
    send_hook(victim_conn)
    victim_conn.close()
    # The parent names the signal and the reason.
    line = b.wait_log(KILLED_RE)[0]
    m = re.search(KILLED_RE, line)
    assert int(m.group("pid")) == victim, line
    assert b.loggrep(r"bailey\[%d\] worker \d+: testhook: IMAP "
                     r"XBAILEYTEST SYSCALL" % victim)
    assert not b.loggrep(r"testhook: still alive")
    # Restarted under the same index, as a new process.
    assert wait_for(lambda: len(workers_of(b)) == 2 and
                    victim not in workers_of(b), 10), workers_of(b)
    assert a_worker in workers_of(b)
    # Session A, in the other worker, carries on.
    fetch_works(a, b"s")
    a.cmd(b"z LOGOUT\r\n", rb"^z ")
    a.close()
    # New logins work (on either worker), POP3 too.
    for _ in range(4):
        assert imap_login_works(b.imap_port, mb.user, mb.password)
    assert pop3_login_works(b.pop3_port, mb.user, mb.password)
    assert b.alive()


def test_pop3_hook_kills_the_worker(hooked, bailey_factory, filled_mailbox):
    b = bailey_factory(isolation="shared", workers=1)
    assert wait_for(lambda: len(workers_of(b)) == 1, 5)
    victim = workers_of(b)[0]
    r = Raw(b.pop3_port)
    send_hook(r, imap=False)
    r.close()
    b.wait_log(KILLED_RE)
    assert b.loggrep(r"bailey\[%d\] worker \d+: testhook: POP3" % victim)
    assert wait_for(lambda: workers_of(b) and
                    victim not in workers_of(b), 10)
    assert wait_for(lambda: pop3_login_works(b.pop3_port,
                                             filled_mailbox.user,
                                             filled_mailbox.password), 5)


def test_per_connection_only_that_session_dies(hooked, bailey_factory,
                                               filled_mailbox):
    mb = filled_mailbox
    b = bailey_factory(isolation="per-connection", workers=2)
    a = login(b.imap_port, mb)
    a_worker = worker_of(b, a, b.imap_port)
    assert a_worker is not None
    victim_conn, victim = connect_on_other_worker(b, b.imap_port, a_worker)
    send_hook(victim_conn)
    victim_conn.close()
    line = b.wait_log(KILLED_RE)[0]
    assert int(re.search(KILLED_RE, line).group("pid")) == victim
    assert len(b.loggrep(KILLED_RE)) == 1
    fetch_works(a, b"s")
    assert a_worker in workers_of(b)
    assert imap_login_works(b.imap_port, mb.user, mb.password)
    a.cmd(b"z LOGOUT\r\n", rb"^z ")
    a.close()
    assert b.alive()


@pytest.mark.parametrize("isolation_mode", ["shared", "per-connection"])
def test_production_binary_has_no_hook(bailey_factory, isolation_mode,
                                       filled_mailbox):
    """The installed bailey answers the hook like any unknown command."""
    b = bailey_factory(isolation=isolation_mode, workers=1)
    before = workers_of(b)
    r = Raw(b.imap_port)
    out = r.cmd(b"h XBAILEYTEST SYSCALL\r\n", rb"^h ")
    assert out[-1].startswith(b"h BAD"), out
    assert r.cmd(b"n NOOP\r\n", rb"^n ")[-1].startswith(b"n OK")
    r.close()
    p = Raw(b.pop3_port)
    p.send(b"XBAILEYTEST SYSCALL\r\n")
    assert p.line().startswith(b"-ERR")
    p.send(b"NOOP\r\n")
    assert p.line().startswith(b"+OK")
    p.close()
    time.sleep(0.3)
    assert not b.loggrep(r"killed by signal|testhook")
    if isolation_mode == "shared":
        assert workers_of(b) == before
    assert imap_login_works(b.imap_port, filled_mailbox.user,
                            filled_mailbox.password)
    with open(bailey_harness.bailey_binary(), "rb") as f:
        assert b"XBAILEYTEST" not in f.read()
