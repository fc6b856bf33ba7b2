# Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
#
# The sandbox as the kernel sees it (docs/sandbox.md, threat row 10):
# every bailey child role, and the parent itself, runs with uid/gid not 0,
# no capabilities in any set, no_new_privs and a seccomp filter before the
# first client byte, and the worker's root is the empty chroot.  The root
# spawner keeps exactly the capabilities docs/sandbox.md lists, no filter,
# and only its documented descriptors.  Read from /proc/PID/status,
# /proc/PID/root and /proc/PID/limits by this (root) process, not from
# bailey's own logs.  Logins still work in both isolation modes with
# lookup, dialer and worker all locked in, and no child dies of SIGSYS.
#
# Needs the lead's integration (bailey -h mentions "sandbox"); skipped
# with a message until then.  Runs as root: scripts/users.sh (idempotent)
# creates _bailey and /var/empty/bailey.

import os
import pwd
import re
import signal
import socket
import subprocess
import time

import pytest

from bailey_harness import bailey_binary, child_roles as children
from rawclient import imap_login_works, pop3_login_works, wait_for

HERE = os.path.dirname(os.path.abspath(__file__))
USERS_SH = os.path.join(HERE, "..", "..", "scripts", "users.sh")
SANDBOX_USER = os.environ.get("BAILEY_SANDBOX_USER", "_bailey")
EMPTY_ROOT = os.environ.get("BAILEY_SANDBOX_CHROOT", "/var/empty/bailey")
ROLES = ("lookup", "dialer", "worker")
# Checked too when present (the keyholder runs when TLS is configured).
ALL_ROLES = ROLES + ("keyholder",)


def _bailey_has_sandbox():
    try:
        r = subprocess.run([bailey_binary(), "-h"], capture_output=True,
                           stdin=subprocess.DEVNULL, timeout=10)
    except OSError:
        return False
    return b"sandbox" in (r.stdout + r.stderr)


pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0,
                       reason="the sandbox e2e tests run as root"),
    pytest.mark.skipif(not _bailey_has_sandbox(),
                       reason="bailey -h does not mention 'sandbox': the "
                       "sandbox is not integrated into the roles yet"),
]


@pytest.fixture(scope="module", autouse=True)
def sandbox_users():
    """_bailey and the empty chroot, made once (idempotent)."""
    subprocess.run(["bash", USERS_SH], check=True, timeout=60,
                   env=dict(os.environ, BAILEY_USER=SANDBOX_USER,
                            BAILEY_EMPTY=EMPTY_ROOT))
    return pwd.getpwnam(SANDBOX_USER)


def proc_status(pid):
    """The fields of /proc/PID/status as a dict of strings."""
    fields = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            key, _, value = line.partition(":")
            fields[key] = value.strip()
    return fields


def proc_limits(pid):
    """{"Max processes": ("soft", "hard"), ...} from /proc/PID/limits."""
    out = {}
    with open("/proc/%d/limits" % pid) as f:
        next(f)
        for line in f:
            name = line[:26].strip()
            parts = line[26:].split()
            if len(parts) >= 2:
                out[name] = (parts[0], parts[1])
    return out


def wait_roles(b, roles, timeout=10):
    """Waits until bailey has a child of each role and every child has
    finished entering its sandbox (Seccomp 2; children that exit meanwhile
    do not count); returns {pid: role}."""
    def ready():
        kids = children(b.proc.pid)
        seen = set()
        for pid, role in kids.items():
            try:
                if proc_status(pid).get("Seccomp") != "2":
                    return False
                seen.add(role)
            except OSError:
                pass
        return all(r in seen for r in roles)
    assert wait_for(ready, timeout), (
        "not every role %s came up sandboxed; children %r; log:\n%s"
        % (roles, children(b.proc.pid), b.log()[-3000:]))
    return children(b.proc.pid)


def check_locked_in(pid, role, user):
    st = proc_status(pid)
    for key in ("Uid", "Gid"):
        ids = [int(x) for x in st[key].split()]
        assert len(ids) == 4, (role, key, st[key])
        assert 0 not in ids, "%s %d: %s %s" % (role, pid, key, st[key])
    assert [int(x) for x in st["Uid"].split()] == [user.pw_uid] * 4
    assert [int(x) for x in st["Gid"].split()] == [user.pw_gid] * 4
    for key in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
        assert st[key] == "0000000000000000", (role, pid, key, st[key])
    assert st["NoNewPrivs"] == "1", (role, pid)
    assert st["Seccomp"] == "2", (role, pid)
    assert st["Groups"] in ("", str(user.pw_gid)), (role, st["Groups"])
    lim = proc_limits(pid)
    assert lim["Max processes"] == ("0", "0"), (role, lim)
    assert lim["Max core file size"] == ("0", "0"), (role, lim)


def map_dir(state_root, mailbox, dovecot):
    """A map directory that _bailey can read (not under pytest's 0700
    tmp_path), sending the test user to the session's Dovecot."""
    d = os.path.join(state_root, "sandbox-maps")
    os.makedirs(d, exist_ok=True)
    os.chmod(d, 0o755)
    path = os.path.join(d, "popmap.re")
    with open(path, "w") as f:
        f.write("^%s$: 127.0.0.1:%d\n" % (mailbox.user, dovecot.imap_port))
    os.chmod(path, 0o644)
    return path


def no_sigsys(b):
    bad = b.loggrep(r"killed by signal 31\b|Bad system call") + \
        b.loggrep(r"forbidden system call \S+ \(\d+\)")
    assert not bad, "a role hit its seccomp filter:\n" + "\n".join(bad)


def test_every_role_is_locked_in(bailey_factory, isolation, sandbox_users,
                                 state_root, mailbox, dovecot):
    mapfile = map_dir(state_root, mailbox, dovecot)
    b = bailey_factory(isolation=isolation, map_file=mapfile)
    kids = wait_roles(b, ROLES)
    seen = set()
    for pid, role in kids.items():
        if role not in ALL_ROLES:
            continue
        check_locked_in(pid, role, sandbox_users)
        seen.add(role)
    assert seen >= set(ROLES)
    # A real login goes through lookup (the map), dialer and a worker.
    # (The map names the IMAP port, so IMAP only here.)
    assert imap_login_works(b.imap_port, mailbox.user, mailbox.password)
    assert b.loggrep(r"event=auth-ok")
    time.sleep(0.2)
    no_sigsys(b)
    # Still the same, after serving sessions.
    for pid, role in children(b.proc.pid).items():
        if role in ALL_ROLES and os.path.exists("/proc/%d" % pid):
            check_locked_in(pid, role, sandbox_users)


def _check_worker_root(pid):
    """1 if the worker's root, cwd and descriptors are as they must be, 0
    if it is gone (a per-connection worker that served the harness's
    readiness probe exits)."""
    # A worker the parent has just made (per-connection mode keeps
    # spares) may not have entered its sandbox yet: give it a moment.
    deadline = time.monotonic() + 5
    try:
        while (os.readlink("/proc/%d/root" % pid) != EMPTY_ROOT and
               time.monotonic() < deadline):
            time.sleep(0.05)
        root = os.readlink("/proc/%d/root" % pid)
        cwd = os.readlink("/proc/%d/cwd" % pid)
        fds = os.listdir("/proc/%d/fd" % pid)
    except FileNotFoundError:
        return 0
    assert root == EMPTY_ROOT
    assert cwd == EMPTY_ROOT
    # Nothing but its sockets, pipes, epoll and the scoreboard is open:
    # no file descriptor on a file outside the chroot.
    for fd in fds:
        try:
            target = os.readlink("/proc/%d/fd/%s" % (pid, fd))
        except OSError:
            continue
        assert (target.startswith(("socket:", "pipe:", "anon_inode:",
                                   "/memfd:", "/dev/null", "/dev/pts"))
                or fd in ("0", "1", "2")), (pid, fd, target)
    return 1


def test_worker_root_is_the_empty_chroot(bailey_factory, isolation,
                                         sandbox_users):
    b = bailey_factory(isolation=isolation)
    checked = 0
    for _ in range(5):
        kids = wait_roles(b, ("worker",))
        workers = [p for p, r in kids.items() if r == "worker"]
        for pid in workers:
            checked += _check_worker_root(pid)
        if checked:
            break
    assert checked >= 1
    assert os.listdir(EMPTY_ROOT) == []
    # The keyholder shares the empty root; the dialer keeps the real one.
    for pid, role in kids.items():
        if role == "keyholder":
            assert os.readlink("/proc/%d/root" % pid) == EMPTY_ROOT
        if role == "dialer":
            assert os.readlink("/proc/%d/root" % pid) == "/"


def test_sessions_survive_under_the_filter(bailey_factory, isolation,
                                           filled_mailbox):
    """Relay (splice), logout and a reconnect: everything the worker does
    after login stays inside its allow-list."""
    mb = filled_mailbox
    b = bailey_factory(isolation=isolation)
    wait_roles(b, ("worker", "dialer"))
    for _ in range(3):
        assert imap_login_works(b.imap_port, mb.user, mb.password)
        assert pop3_login_works(b.pop3_port, mb.user, mb.password)
    time.sleep(0.2)
    assert b.alive()
    no_sigsys(b)


# Capability names -> bits (linux/capability.h), for the spawner's set.
CAP_BITS = {
    "CHOWN": 0, "DAC_OVERRIDE": 1, "DAC_READ_SEARCH": 2, "FOWNER": 3,
    "FSETID": 4, "KILL": 5, "SETGID": 6, "SETUID": 7, "SETPCAP": 8,
    "LINUX_IMMUTABLE": 9, "NET_BIND_SERVICE": 10, "NET_BROADCAST": 11,
    "NET_ADMIN": 12, "NET_RAW": 13, "IPC_LOCK": 14, "IPC_OWNER": 15,
    "SYS_MODULE": 16, "SYS_RAWIO": 17, "SYS_CHROOT": 18, "SYS_PTRACE": 19,
    "SYS_PACCT": 20, "SYS_ADMIN": 21, "SYS_BOOT": 22, "SYS_NICE": 23,
    "SYS_RESOURCE": 24, "SYS_TIME": 25, "SYS_TTY_CONFIG": 26, "MKNOD": 27,
    "LEASE": 28, "AUDIT_WRITE": 29, "AUDIT_CONTROL": 30, "SETFCAP": 31,
}
SANDBOX_MD = os.path.join(HERE, "..", "..", "docs", "sandbox.md")


def documented_spawner_caps():
    """The mask docs/sandbox.md gives the spawner (its "Capabilities:"
    line in the spawner section)."""
    with open(SANDBOX_MD) as f:
        text = f.read()
    section = text.split("### spawner (`SB_SPAWNER`)", 1)[1]
    section = section.split("\n### ", 1)[0]
    m = re.search(r"^Capabilities \(permitted, effective, bounding\):"
                  r"((?:\s+`CAP_[A-Z_]+`)+)", section, re.M)
    assert m, "docs/sandbox.md: no Capabilities: line for the spawner"
    mask = 0
    for name in re.findall(r"`CAP_([A-Z_]+)`", m.group(1)):
        mask |= 1 << CAP_BITS[name]
    return mask


def spawner_of(b, timeout=5):
    """The spawner: the parent's child that did not re-execute itself
    (same command line)."""
    found = []
    with open("/proc/%d/cmdline" % b.proc.pid, "rb") as f:
        parent_argv = f.read()

    def look():
        found[:] = []
        for p in os.listdir("/proc"):
            if not p.isdigit() or int(p) == b.proc.pid:
                continue
            try:
                st = proc_status(int(p))
                with open("/proc/%s/cmdline" % p, "rb") as f:
                    argv = f.read()
            except OSError:
                continue
            if int(st.get("PPid", "0")) == b.proc.pid and \
                    argv == parent_argv:
                found.append(int(p))
        return len(found) == 1
    assert wait_for(look, timeout), "spawner not found: %r" % found
    return found[0]


def fd_targets(pid):
    out = {}
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            out[int(fd)] = os.readlink("/proc/%d/fd/%s" % (pid, fd))
        except OSError:
            pass
    return out


def listening_inodes(ports):
    """Socket inodes of the TCP listeners on these local ports."""
    out = set()
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(name) as f:
            next(f)
            for line in f:
                parts = line.split()
                port = int(parts[1].rsplit(":", 1)[1], 16)
                if parts[3] == "0A" and port in ports:
                    out.add(parts[9])
    return out


def test_parent_is_locked_in(bailey_factory, isolation, sandbox_users,
                             filled_mailbox):
    """Since the spawner split the parent is checked like every role."""
    b = bailey_factory(isolation=isolation)
    wait_roles(b, ("worker", "dialer"))
    assert wait_for(lambda: proc_status(b.proc.pid)["Seccomp"] == "2", 5)
    check_locked_in(b.proc.pid, "parent", sandbox_users)
    st = proc_status(b.proc.pid)
    assert st["Uid"].split()[0] == str(sandbox_users.pw_uid)
    # Not dumpable: its /proc files stay root's although it is not.
    assert os.stat("/proc/%d/status" % b.proc.pid).st_uid == 0
    assert os.stat("/proc/%d/fd" % b.proc.pid).st_uid == 0
    # It still supervises: logins, and its children are its own.
    assert imap_login_works(b.imap_port, filled_mailbox.user,
                            filled_mailbox.password)
    assert pop3_login_works(b.pop3_port, filled_mailbox.user,
                            filled_mailbox.password)
    no_sigsys(b)


def test_spawner_matches_the_docs(bailey_factory, sandbox_users):
    b = bailey_factory()
    wait_roles(b, ("worker", "dialer"))
    sp = spawner_of(b)
    st = proc_status(sp)
    assert [int(x) for x in st["Uid"].split()] == [0, 0, 0, 0]
    assert [int(x) for x in st["Gid"].split()] == [0, 0, 0, 0]
    caps = documented_spawner_caps()
    for key in ("CapPrm", "CapEff", "CapBnd"):
        assert int(st[key], 16) == caps, (key, st[key], hex(caps))
    assert st["CapInh"] == "0000000000000000"
    assert st["CapAmb"] == "0000000000000000"
    assert st["NoNewPrivs"] == "1"
    assert st["Seccomp"] == "0"
    assert os.readlink("/proc/%d/root" % sp) == "/"
    # Descriptors: stdio, the parent channel, the configuration and the
    # scoreboard memfds, the listeners, and at most syslog's socket.
    fds = fd_targets(sp)
    rest = {fd: t for fd, t in fds.items() if fd > 2}
    memfds = sorted(t for t in rest.values() if t.startswith("/memfd:"))
    assert memfds == ["/memfd:bailey-scoreboard (deleted)",
                      "/memfd:bailey.conf (deleted)"], rest
    socks = {t[len("socket:["):-1] for t in rest.values()
             if t.startswith("socket:[")}
    lst = listening_inodes({b.imap_port, b.pop3_port})
    assert len(lst) == 2 and lst <= socks, (lst, socks)
    assert len(socks - lst) in (1, 2), rest     # channel (+ syslog)
    assert len(rest) == len(memfds) + len(socks), rest
    # Every role's process is the parent's child, not the spawner's.
    kids = children(b.proc.pid)
    assert set(kids.values()) >= {"worker", "dialer"}
    assert children(sp) == {}
    for pid in kids:
        assert int(proc_status(pid)["PPid"]) == b.proc.pid


def test_spawner_exits_with_the_parent(bailey_factory):
    b = bailey_factory()
    kids = wait_roles(b, ("worker", "dialer"))
    sp = spawner_of(b)
    os.kill(b.proc.pid, signal.SIGKILL)
    b.proc.wait(timeout=5)
    assert wait_for(lambda: not os.path.exists("/proc/%d" % sp), 5), \
        "the spawner outlived the parent"
    # Children see their channel close and go too.
    assert wait_for(lambda: not any(os.path.exists("/proc/%d" % p)
                                    for p in kids), 10)


def free_low_port():
    for port in range(1000, 800, -1):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
                return port
            except OSError:
                continue
    pytest.skip("no free port below 1024")


def test_reload_binds_a_low_port(bailey_factory, sandbox_users,
                                 filled_mailbox):
    """SIGHUP: the spawner (root, NET_BIND_SERVICE) binds a new listener
    below 1024 for the unprivileged parent."""
    mb = filled_mailbox
    b = bailey_factory()
    wait_roles(b, ("worker",))
    sp = spawner_of(b)
    low = free_low_port()
    with open(b.conf, "a") as f:
        f.write("listen imap on 127.0.0.1 port %d\n" % low)
    os.kill(b.proc.pid, signal.SIGHUP)
    assert b.wait_log(r"configuration generation 1 running")
    assert imap_login_works(low, mb.user, mb.password)
    assert imap_login_works(b.imap_port, mb.user, mb.password)
    assert spawner_of(b) == sp
    assert listening_inodes({low}) <= {
        t[len("socket:["):-1] for t in fd_targets(sp).values()
        if t.startswith("socket:[")}
    # And a bad reload changes nothing.
    with open(b.conf, "a") as f:
        f.write("listen imap on 127.0.0.1 port %d\n" % low)  # duplicate
        f.write("no-such-keyword 1\n")
    os.kill(b.proc.pid, signal.SIGHUP)
    assert b.wait_log(r"reload failed")
    assert imap_login_works(low, mb.user, mb.password)
    check_locked_in(b.proc.pid, "parent", sandbox_users)
    no_sigsys(b)


def test_sandbox_off_keeps_the_old_parent(bailey_factory, filled_mailbox):
    """sandbox off: no spawner, the parent stays root and forks itself."""
    b = bailey_factory(extra="sandbox off")
    kids = wait_for(lambda: "worker" in children(b.proc.pid).values(), 5)
    assert kids
    st = proc_status(b.proc.pid)
    assert st["Uid"].split()[0] == "0"
    assert st["Seccomp"] == "0"
    assert b.loggrep(r"sandbox off")
    assert imap_login_works(b.imap_port, filled_mailbox.user,
                            filled_mailbox.password)
    for pid in os.listdir("/proc"):
        if pid.isdigit() and int(pid) != b.proc.pid:
            try:
                st = proc_status(int(pid))
            except OSError:
                continue
            if int(st.get("PPid", "0")) == b.proc.pid:
                with open("/proc/%s/cmdline" % pid, "rb") as f:
                    assert b"-R" in f.read().split(b"\0")
