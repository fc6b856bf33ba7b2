# Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
#
# The parent as a supervisor: SIGHUP rereads config and maps without
# dropping sessions, a bad reload keeps the old config, dead children are
# restarted, and a dead worker takes only its own sessions with it.

import os
import signal
import time

from bailey_harness import child_roles as children
from rawclient import Raw, imap_login_works, wait_for


def pids_of(b, role):
    return [p for p, r in children(b.proc.pid).items() if r == role]


def logged_in(port, mb):
    r = Raw(port)
    out = r.cmd(b"a LOGIN %s %s\r\n" % (mb.user.encode(),
                                        mb.password.encode()), rb"^a ")
    assert out[-1].startswith(b"a OK")
    return r


def test_sighup_keeps_sessions_and_applies_config(bailey_factory,
                                                  filled_mailbox):
    mb = filled_mailbox
    b = bailey_factory()
    r = logged_in(b.imap_port, mb)
    old_workers = set(pids_of(b, "worker"))
    with open(b.conf) as f:
        text = f.read()
    text = text.replace("max-bad-commands 10", "max-bad-commands 2")
    with open(b.conf, "w") as f:
        f.write(text)
    os.kill(b.proc.pid, signal.SIGHUP)
    assert b.wait_log(r"configuration generation 1 running")
    # The established session carries on in its old worker.
    assert r.cmd(b"b SELECT INBOX\r\n", rb"^b ")[-1].startswith(b"b OK")
    assert old_workers & set(pids_of(b, "worker"))
    # New connections get the new limit.
    n = Raw(b.imap_port)
    n.send(b"x FROB\r\ny FROB\r\n")
    assert n.until(rb"^\* BYE")
    assert n.closed()
    r.cmd(b"c LOGOUT\r\n", rb"^c ")
    r.close()
    # The old generation's workers exit once their sessions are done.
    assert wait_for(lambda: not (old_workers &
                                 set(pids_of(b, "worker"))), 10)


def test_sighup_with_bad_config_keeps_running(bailey_factory,
                                              filled_mailbox):
    b = bailey_factory()
    with open(b.conf, "a") as f:
        f.write("no-such-keyword 1\n")
    os.kill(b.proc.pid, signal.SIGHUP)
    assert b.wait_log(r"reload failed")
    assert b.wait_log(r"no-such-keyword|unknown", timeout=2)
    assert imap_login_works(b.imap_port, filled_mailbox.user,
                            filled_mailbox.password)


def test_map_change_is_picked_up(bailey_factory, hostile_backend, dovecot,
                                 filled_mailbox, tmp_path):
    mb = filled_mailbox
    hb = hostile_backend([("send", b"* BYE not here\r\n")], max_conns=100)
    os.chmod(tmp_path, 0o755)
    mapfile = tmp_path / "popmap.re"
    mapfile.write_text("^%s$: 127.0.0.1:%d\n" % (mb.user, hb.port))
    b = bailey_factory(imap_backend=None, map_file=str(mapfile))
    r = Raw(b.imap_port)
    out = r.cmd(b"a LOGIN %s %s\r\n" % (mb.user.encode(),
                                        mb.password.encode()), rb"^a ")
    assert out[-1].startswith(b"a NO [UNAVAILABLE]")
    assert hb.connections == 1
    r.close()
    time.sleep(1.1)             # a new mtime, and past lookup's 1 s check
    mapfile.write_text("^%s$: 127.0.0.1:%d\n" % (mb.user, dovecot.imap_port))
    assert wait_for(lambda: imap_login_works_quiet(b.imap_port, mb), 5)


def imap_login_works_quiet(port, mb):
    try:
        return imap_login_works(port, mb.user, mb.password)
    except Exception:
        return False


def test_killed_children_are_restarted(bailey_factory, filled_mailbox):
    mb = filled_mailbox
    mapless = bailey_factory(workers=2)
    for role in ("dialer", "worker"):
        victim = pids_of(mapless, role)[0]
        os.kill(victim, signal.SIGKILL)
        assert mapless.wait_log(r"%s \d+ \(pid %d\) killed by signal 9" %
                                (role, victim))
        assert wait_for(lambda: len(pids_of(mapless, role)) ==
                        (2 if role == "worker" else 1), 5)
        assert wait_for(lambda: imap_login_works_quiet(mapless.imap_port,
                                                       mb), 5)


def test_killed_lookup_is_restarted(bailey_factory, dovecot, filled_mailbox,
                                    tmp_path):
    mb = filled_mailbox
    os.chmod(tmp_path, 0o755)
    mapfile = tmp_path / "popmap.re"
    mapfile.write_text("^(.*)$: 127.0.0.1:%d\n" % dovecot.imap_port)
    b = bailey_factory(imap_backend=None, map_file=str(mapfile))
    victim = pids_of(b, "lookup")[0]
    os.kill(victim, signal.SIGKILL)
    assert b.wait_log(r"lookup \d+ \(pid %d\) killed" % victim)
    assert wait_for(lambda: imap_login_works_quiet(b.imap_port, mb), 5)
    assert pids_of(b, "lookup") and victim not in pids_of(b, "lookup")


def test_dead_worker_loses_only_its_sessions(bailey_factory, filled_mailbox):
    mb = filled_mailbox
    b = bailey_factory(isolation="per-connection", workers=2)
    a = logged_in(b.imap_port, mb)
    c = logged_in(b.imap_port, mb)
    # The worker may log auth-ok just after the client has its OK.
    b.wait_log(r"event=auth-ok", count=2)
    busy = [p for p in pids_of(b, "worker")
            if b.loggrep(r"bailey\[%d\] worker \d+: session=\S+ client=\S+ "
                         r"event=auth-ok" % p)]
    assert len(busy) == 2                   # one process per session
    os.kill(busy[0], signal.SIGKILL)
    # Exactly one of the two sessions died; the other still works.
    alive = []
    for r in (a, c):
        try:
            r.send(b"n NOOP\r\n")
            alive.append(r.until(rb"^n ")[-1].startswith(b"n OK"))
        except (EOFError, OSError):
            alive.append(False)
    assert sorted(alive) == [False, True]
    assert imap_login_works(b.imap_port, mb.user, mb.password)
    a.close()
    c.close()


def test_sigterm_drains_then_exits(bailey_factory, filled_mailbox):
    b = bailey_factory()
    r = logged_in(b.imap_port, filled_mailbox)
    os.kill(b.proc.pid, signal.SIGTERM)
    # New connections are refused at once; the session still works.
    assert wait_for(lambda: not port_open(b.imap_port), 3)
    assert r.cmd(b"b NOOP\r\n", rb"^b ")[-1].startswith(b"b OK")
    r.cmd(b"c LOGOUT\r\n", rb"^c ")
    r.close()
    assert wait_for(lambda: b.proc.poll() is not None, 5)
    assert b.proc.returncode == 0


def port_open(port):
    import socket
    s = socket.socket()
    s.settimeout(0.5)
    try:
        s.connect(("127.0.0.1", port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def spawner_pid(b):
    """The spawner: the parent's child that did not re-execute itself, so
    its command line is the parent's."""
    try:
        with open("/proc/%d/cmdline" % b.proc.pid, "rb") as f:
            argv = f.read()
    except OSError:
        return None
    for p in os.listdir("/proc"):
        if not p.isdigit() or int(p) == b.proc.pid:
            continue
        try:
            with open("/proc/%s/stat" % p) as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            with open("/proc/%s/cmdline" % p, "rb") as f:
                mine = f.read()
        except (OSError, ValueError, IndexError):
            continue
        if ppid == b.proc.pid and mine == argv:
            return int(p)
    return None


def test_children_come_from_the_spawner_but_belong_to_the_parent(
        bailey_factory, filled_mailbox):
    b = bailey_factory(isolation="per-connection", workers=2)
    sp = spawner_pid(b)
    assert sp is not None
    assert wait_for(lambda: len(pids_of(b, "worker")) == 2, 5)
    before = set(pids_of(b, "worker"))
    # Each login uses up a worker; the parent has the spawner make more,
    # and they are the parent's children (clone(CLONE_PARENT)).
    for _ in range(3):
        assert imap_login_works(b.imap_port, filled_mailbox.user,
                                filled_mailbox.password)
    assert wait_for(lambda: len(set(pids_of(b, "worker")) - before) >= 2, 5)
    # The used ones exit after their session (reaped by the parent).
    assert wait_for(lambda: not (before & set(pids_of(b, "worker"))), 10)
    assert spawner_pid(b) == sp


def test_dead_spawner_stops_the_parent(bailey_factory, filled_mailbox):
    b = bailey_factory()
    r = logged_in(b.imap_port, filled_mailbox)
    sp = spawner_pid(b)
    assert sp is not None
    os.kill(sp, signal.SIGKILL)
    assert b.wait_log(r"spawner \(pid %d\) killed by signal 9 .*; stopping"
                      % sp)
    # No new children can be made: bailey drains and exits with 1.
    r.cmd(b"c LOGOUT\r\n", rb"^c ")
    r.close()
    assert wait_for(lambda: b.proc.poll() is not None, 15)
    assert b.proc.returncode == 1
