# Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
#
# End-to-end tests of pbsd: real datagrams from this process (and from a
# child that became "nobody"), pbsctl, postmap, a private Postfix instance
# that relays only for addresses pbsd wrote, a Postfix-like reader hammering
# the table during 10,000 events, and kill -9 during bursts.  Runs as root
# in the pytest process; every process started is stopped by PID.
# Threat rows 36 (malformed PBS IPC records) and 43 (only successful logins
# may produce entries).

import os
import random
import shutil
import subprocess
import threading
import time

import pytest

from pbsd_fixtures import (EV_LOGIN_OK, EV_LOGOUT, EV_SESSION_ALIVE, Pbsd,
                           Postfix, binpath, db_verify, pbsd_factory,
                           postmap_dump, postmap_q, record, tmp_root)

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("postfix") is None or
    shutil.which("db5.3_verify") is None,
    reason="needs root, postfix and db5.3-util")


@pytest.fixture(scope="module")
def root():
    yield from tmp_root("pbsd-e2e.")


@pytest.fixture
def pbsds(root):
    """Factory: pbsds(name, **kw) -> started Pbsd in root/name."""
    yield from pbsd_factory(root)


@pytest.fixture(scope="module")
def postfix(root):
    # smtpd reads hash:root/pf-pbsd/db/relay, which the test's pbsd writes.
    pf = Postfix(os.path.join(root, "postfix"),
                 os.path.join(root, "pf-pbsd", "db", "relay"))
    # pbsd must have written a valid table before Postfix opens it: an
    # smtpd that found it missing answers 451 until it exits (research
    # 1.5).  A first pbsd run does exactly that.
    first = Pbsd(os.path.join(root, "pf-pbsd"))
    try:
        first.start()
    finally:
        first.close()
    try:
        pf.start()
        yield pf
    finally:
        pf.stop()


def table(p):
    return p.db[:-3]


def test_unwritable_output_dir_is_fatal(pbsds):
    p = pbsds("rootdir", start=False)
    os.makedirs(os.path.dirname(p.db))          # owned by root
    with pytest.raises(RuntimeError):
        p.start(timeout=5)
    assert "must be owned by the pbsd user" in p.logtext()


def test_config_check(root):
    p = Pbsd(os.path.join(root, "conf-check"))
    r = subprocess.run([binpath("pbsd"), "-n", "-f", p.conf],
                       capture_output=True, text=True, timeout=10)
    assert r.returncode == 0 and "configuration OK" in r.stderr
    with open(p.conf, "a") as f:
        f.write("expire = 0\n")
    r = subprocess.run([binpath("pbsd"), "-n", "-f", p.conf],
                       capture_output=True, text=True, timeout=10)
    assert r.returncode != 0 and "expire" not in r.stdout
    assert ":12:" in r.stderr or "number out of range" in r.stderr


def test_postfix_relay_refused_accepted_expired(postfix, pbsds):
    p = pbsds("pf-pbsd", expire=4)
    pf = postfix
    # The table exists and is valid right after start: no 451.
    assert pf.rcpt("127.0.0.2") == 554, pf.logtext()
    assert pf.rcpt("127.0.0.1") == 250          # mynetworks
    p.send(EV_LOGIN_OK, "127.0.0.2", "alice")
    p.wait_for(lambda: postmap_q("127.0.0.2", table(p), pf.confdir) == "OK",
               what="127.0.0.2 in the table")
    assert pf.rcpt("127.0.0.2") == 250, pf.logtext()
    assert pf.rcpt("127.0.0.3") == 554
    # Expiry: gone from pbsd, from the file, and Postfix refuses again.
    p.wait_for(lambda: not p.entries(), timeout=10, what="expiry")
    p.wait_for(lambda: postmap_q("127.0.0.2", table(p), pf.confdir) is None,
               what="127.0.0.2 removed from the table")
    assert pf.rcpt("127.0.0.2") == 554, pf.logtext()
    assert p.stats()["expired"] == 1


def test_postmap_agrees_with_pbsctl(postfix, pbsds):
    p = pbsds("agree")
    p.send(EV_LOGIN_OK, "192.0.2.1", "a")
    p.send(EV_LOGIN_OK, "2001:DB8:0:0:0:0:0:2", "b")
    p.send(EV_LOGIN_OK, "::ffff:192.0.2.3", "c")        # folded to IPv4
    p.send(EV_LOGIN_OK, "2001:db8::7", "d")
    assert p.ctl("add", "198.51.100.4", "60")[0] == 0
    assert p.ctl("add", "2001:db8::5")[0] == 0
    assert p.ctl("del", "2001:db8::7")[0] == 0
    assert p.ctl("del", "203.0.113.9")[0] != 0           # not present
    assert p.ctl("add", "not-an-address")[0] != 0
    want = {"192.0.2.1", "2001:db8::2", "192.0.2.3", "198.51.100.4",
            "2001:db8::5"}
    p.wait_for(lambda: set(p.entries()) == want, what="pbsctl list")
    p.wait_for(lambda: set(postmap_dump(table(p), postfix.confdir)) == want,
               what="postmap -s to agree with pbsctl list")
    listed = p.entries()
    for addr in listed:
        assert postmap_q(addr, table(p), postfix.confdir) == "OK"
        assert 0 < listed[addr][1] <= 1800
    assert listed["198.51.100.4"][1] <= 60
    assert postmap_q("::ffff:192.0.2.3", table(p), postfix.confdir) is None
    assert postmap_q("192.0.2.99", table(p), postfix.confdir) is None
    # The text snapshot says the same.
    with open(p.text) as f:
        text = {l.split()[0] for l in f if not l.startswith("#")}
    assert text == want
    # Modes: directory 0755, files 0644, owned by the unprivileged user.
    st = os.stat(os.path.dirname(p.db))
    assert st.st_mode & 0o777 == 0o755 and st.st_uid == 65534
    for path in (p.db, p.text, p.state):
        st = os.stat(path)
        assert st.st_mode & 0o777 == 0o644 and st.st_uid == 65534
    # flush empties the file.
    assert p.ctl("flush")[0] == 0
    p.wait_for(lambda: postmap_dump(table(p), postfix.confdir) == {},
               what="flush")


def test_sendmail_keys_and_nul_both(postfix, pbsds):
    p = pbsds("keys", db_opts="output_keys = postfix sendmail\n"
              "output_nul = both\noutput_value = expiry\n")
    p.send(EV_LOGIN_OK, "2001:db8::2")
    p.wait_for(lambda: postmap_q("2001:db8::2", table(p), postfix.confdir)
               is not None, what="entry")
    v = postmap_q("2001:db8::2", table(p), postfix.confdir)
    assert v.isdigit() and int(v) > time.time()
    assert postmap_q("ipv6:2001:db8:0:0:0:0:0:2", table(p),
                     postfix.confdir) == v
    # Both NUL forms: 2 spellings x 2 forms = 4 records, postmap -s shows
    # each spelling once per form.
    dump = postmap_dump(table(p), postfix.confdir)
    assert set(dump) == {"2001:db8::2", "ipv6:2001:db8:0:0:0:0:0:2"}


def test_session_alive_and_logout_refresh_only(pbsds):
    p = pbsds("refresh", expire=6)
    p.send(EV_SESSION_ALIVE, "192.0.2.10")
    p.send(EV_LOGOUT, "192.0.2.11")
    p.send(EV_LOGIN_OK, "192.0.2.12")
    p.wait_for(lambda: "192.0.2.12" in p.entries(), what="login")
    assert set(p.entries()) == {"192.0.2.12"}
    assert p.stats()["unknown"] == 2
    first = p.entries()["192.0.2.12"][0]
    time.sleep(2.5)
    p.send(EV_LOGOUT, "192.0.2.12")       # starts the expiry again
    p.wait_for(lambda: p.stats()["logouts"] == 1, what="logout")
    e = p.entries()
    assert "192.0.2.12" in e and e["192.0.2.12"][0] >= first + 2
    p.wait_for(lambda: not p.entries(), timeout=12, what="expiry after logout")


def test_disallowed_uid_produces_no_entry(pbsds):
    p = pbsds("uid")
    data = record(EV_LOGIN_OK, "192.0.2.50", "mallory")
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            import socket as s
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)
            c = s.socket(s.AF_UNIX, s.SOCK_DGRAM)
            c.sendto(data, p.sock)
            code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
    p.wait_for(lambda: p.stats()["dropped_cred"] == 1, what="drop")
    assert p.entries() == {}
    assert "uid=65534" in p.logtext()
    # The same datagram from an allowed uid does make an entry.
    p.send_raw(data)
    p.wait_for(lambda: "192.0.2.50" in p.entries(), what="allowed sender")


def test_row43_only_known_event_types_make_entries(pbsds):
    p = pbsds("row43")
    for ev in (0, 4, 5, 0x10, 0x7f, 0x80, 0xff):
        p.send_raw(record(ev, "192.0.2.60", "u"))
    # Refresh events never create an entry.
    p.send(EV_SESSION_ALIVE, "192.0.2.61")
    p.send(EV_LOGOUT, "192.0.2.62")
    p.send(EV_LOGIN_OK, "192.0.2.63")      # the control: this one counts
    p.wait_for(lambda: p.stats()["logins"] == 1, what="login")
    st = p.stats()
    assert st["dropped_format"] == 7
    assert st["unknown"] == 2
    assert set(p.entries()) == {"192.0.2.63"}


def test_row36_malformed_records_are_dropped(pbsds):
    p = pbsds("row36")
    good = record(EV_LOGIN_OK, "192.0.2.70", "user")
    bad = [
        record(EV_LOGIN_OK, "192.0.2.70", "us\ter"),
        record(EV_LOGIN_OK, "192.0.2.70", "us\r\ner"),
        record(EV_LOGIN_OK, "192.0.2.70", "us\0er"),
        record(EV_LOGIN_OK, "192.0.2.70", "us\x1ber"),
        good + b"x",                                   # trailing byte
        good[:-1],                                     # short user
        good[:12],                                     # no length byte
        b"",
        b"PBSD",
        record(EV_LOGIN_OK, "192.0.2.70", magic=0x50425345),
        record(EV_LOGIN_OK, "192.0.2.70", version=2),
        record(EV_LOGIN_OK, "192.0.2.70", family=5),
        record(EV_LOGIN_OK, "192.0.2.70", family=6),   # 4 bytes for IPv6
        record(EV_LOGIN_OK, "2001:db8::70", family=4),  # 16 for IPv4
        record(EV_LOGIN_OK, "192.0.2.70", proto=9),
        good[:8] + bytes(16) + bytes([255]) + b"u" * 256,  # too long
        os.urandom(300),
    ]
    for b in bad:
        p.send_raw(b)
    p.send_raw(good)
    p.wait_for(lambda: p.stats()["logins"] == 1, what="the good record")
    st = p.stats()
    assert st["dropped_format"] == len(bad), p.logtext()
    assert set(p.entries()) == {"192.0.2.70"}
    # Logged escaped: no raw control characters in pbsd's log.
    assert "\t" not in p.logtext() and "\x1b" not in p.logtext()


def test_restart_keeps_unexpired_entries(pbsds):
    p = pbsds("restart", expire=600)
    for i in range(5):
        p.send(EV_LOGIN_OK, "192.0.2.%d" % (100 + i))
    p.wait_for(lambda: len(p.entries()) == 5, what="5 entries")
    before = p.entries()
    p.stop()
    p.start()
    after = p.entries()
    assert {a: e for a, (e, _) in after.items()} == \
        {a: e for a, (e, _) in before.items()}


def test_reader_hammer_10000_events(postfix, pbsds):
    p = pbsds("hammer", expire=3600, flush_interval=0,
              extra="max_entries = 20000\n")
    assert p.ctl("add", "192.0.2.1", "3600")[0] == 0
    p.wait_for(lambda: postmap_q("192.0.2.1", table(p), postfix.confdir)
               == "OK", what="sentinel")
    reader = subprocess.Popen([binpath("pbsd-dbread"), p.db, "192.0.2.1",
                               "8"], stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    pm_results = []
    stop = threading.Event()

    def postmap_loop():
        while not stop.is_set():
            pm_results.append(postmap_q("192.0.2.1", table(p),
                                        postfix.confdir))
    t = threading.Thread(target=postmap_loop)
    t.start()
    try:
        time.sleep(0.3)
        for i in range(10000):
            p.send(EV_LOGIN_OK, "10.%d.%d.%d" % (i >> 16, (i >> 8) & 255,
                                                 i & 255), "u%d" % i)
        p.wait_for(lambda: p.stats()["logins"] == 10000, timeout=60,
                   what="10,000 events")
        p.wait_for(lambda: len(p.entries()) == 10001, what="entries")
        out, _ = reader.communicate(timeout=30)
    finally:
        stop.set()
        t.join(30)
        if reader.poll() is None:
            reader.kill()
            reader.wait()
    assert reader.returncode == 0, out
    assert "errors 0 misses 0" in out, out
    assert pm_results and all(v == "OK" for v in pm_results), pm_results
    st = p.stats()
    assert st["writes"] >= 2 and st["write_errors"] == 0
    ok, err = db_verify(p.db)
    assert ok, err
    p.wait_for(lambda: len(postmap_dump(table(p), postfix.confdir)) ==
               10001, what="all 10,001 keys in the file")


def test_kill9_during_burst_20_times(postfix, pbsds):
    p = pbsds("kill9", start=False, expire=3600, flush_interval=0)
    os.makedirs(os.path.dirname(p.db), exist_ok=True)
    shutil.chown(os.path.dirname(p.db), "nobody", "nogroup")
    stale = os.path.join(os.path.dirname(p.db), ".relay.db.tmp.999999")
    open(stale, "w").close()
    p.start()
    assert not os.path.exists(stale)       # stale temp file removed
    assert p.ctl("add", "192.0.2.1", "3600")[0] == 0
    markers = []
    rnd = random.Random(43)
    for it in range(20):
        if it > 0:
            p.start()
            listed = p.entries()
            missing = [m for m in markers if m not in listed]
            assert not missing, "lost after kill -9: %s" % missing
            assert "192.0.2.1" in listed
        marker = "198.51.100.%d" % (it + 1)
        p.send(EV_LOGIN_OK, marker)
        p.wait_for(lambda: postmap_q(marker, table(p), postfix.confdir)
                   == "OK", what="marker %s" % marker)
        markers.append(marker)
        stop = threading.Event()

        def burst(base=it):
            i = 0
            while not stop.is_set() and i < 5000:
                try:
                    p.send(EV_LOGIN_OK, "10.%d.%d.%d" % (base, i >> 8,
                                                          i & 255))
                except OSError:
                    return
                i += 1
        t = threading.Thread(target=burst)
        t.start()
        time.sleep(rnd.uniform(0.02, 0.4))
        p.kill9()
        stop.set()
        t.join(30)
        ok, err = db_verify(p.db)
        assert ok, "iteration %d: %s" % (it, err)
        for m in markers + ["192.0.2.1"]:
            assert postmap_q(m, table(p), postfix.confdir) == "OK", m
    p.start()
    tmp = [f for f in os.listdir(os.path.dirname(p.db)) if ".tmp." in f]
    assert tmp == []
    assert all(m in p.entries() for m in markers)
