# Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
#
# End-to-end test of pbsd's nftables output, inside a network namespace the
# test creates (ip netns add) and deletes again: per-element timeouts,
# refresh, delete, flush, re-sync on SIGHUP, and the writer process running
# as nobody with CAP_NET_ADMIN only; IPv6 /64 interval elements; a refresh
# that really restarts the timeout; elements back by themselves after a
# "flush ruleset" reload; the example rulesets of pbsd.conf(5), loaded as
# printed there, letting only recorded clients reach port 587.  Runs as
# root; stops what it starts.

import os
import re
import shutil
import signal
import subprocess
import time

import pytest

from pbsd_fixtures import (EV_LOGIN_OK, EV_SESSION_ALIVE, REPO, Pbsd,
                           make_tmpdir)

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("nft") is None or
    shutil.which("ip") is None, reason="needs root, ip and nft")

RULESET = """
table inet pbsd {
	set relay4 { type ipv4_addr; flags timeout; timeout 30m; }
	set relay6 { type ipv6_addr; flags timeout; timeout 30m; }
}
"""


@pytest.fixture
def netns():
    name = "pbsdt%d" % os.getpid()
    subprocess.run(["ip", "netns", "add", name], check=True, timeout=20)
    try:
        subprocess.run(["ip", "-n", name, "link", "set", "lo", "up"],
                       check=True, timeout=20)
        subprocess.run(["ip", "netns", "exec", name, "nft", "-f", "-"],
                       input=RULESET, text=True, check=True, timeout=20)
        yield name
    finally:
        subprocess.run(["ip", "netns", "del", name], timeout=20)


def nft_set(ns, name):
    r = subprocess.run(["ip", "netns", "exec", ns, "nft", "list", "set",
                        "inet", "pbsd", name], capture_output=True,
                       text=True, timeout=20)
    assert r.returncode == 0, r.stderr
    m = re.search(r"elements = \{([^}]*)\}", r.stdout, re.S)
    if not m:
        return {}
    res = {}
    for item in m.group(1).split(","):
        words = item.split()
        if words:
            res[words[0]] = " ".join(words[1:])
    return res


def child_of(pid):
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            return int(d)
    return None


def status(pid):
    with open("/proc/%d/status" % pid) as f:
        return dict(l.split(":", 1) for l in f if ":" in l)


def test_nft_set_elements(netns):
    root = make_tmpdir("pbsd-nft.")
    p = Pbsd(os.path.join(root, "p"), expire=60,
             extra="nft_table = pbsd\nnft_set4 = relay4\n"
                   "nft_set6 = relay6\n",
             wrapper=["ip", "netns", "exec", netns])
    try:
        p.start()
        # The writer: a child of pbsd, uid nobody, only CAP_NET_ADMIN.
        w = child_of(p.proc.pid)
        assert w is not None
        p.send(EV_LOGIN_OK, "192.0.2.10")    # the writer has set up by now
        p.wait_for(lambda: "192.0.2.10" in nft_set(netns, "relay4"),
                   what="first element")
        st = status(w)
        assert st["Uid"].split()[:3] == ["65534"] * 3
        assert int(st["CapEff"], 16) == 1 << 12       # CAP_NET_ADMIN
        assert int(st["CapPrm"], 16) == 1 << 12
        assert int(st["CapBnd"], 16) == 1 << 12
        assert int(st["CapInh"], 16) == 0
        assert status(p.proc.pid)["CapEff"].strip() == "0" * 16
        p.send(EV_LOGIN_OK, "192.0.2.10")
        p.send(EV_LOGIN_OK, "2001:db8::10")
        p.wait_for(lambda: "192.0.2.10" in nft_set(netns, "relay4") and
                   "2001:db8::10" in nft_set(netns, "relay6"),
                   what="elements in the nft sets")
        e = nft_set(netns, "relay4")["192.0.2.10"]
        assert "timeout 1m" in e and "expires" in e, e
        # Manual add with its own timeout; refresh keeps one element.
        assert p.ctl("add", "192.0.2.11", "5")[0] == 0
        p.send(EV_LOGIN_OK, "192.0.2.10")
        p.wait_for(lambda: "192.0.2.11" in nft_set(netns, "relay4"),
                   what="manual add")
        assert "timeout 5s" in nft_set(netns, "relay4")["192.0.2.11"]
        # Delete and flush remove elements at once.
        assert p.ctl("del", "192.0.2.10")[0] == 0
        p.wait_for(lambda: "192.0.2.10" not in nft_set(netns, "relay4"),
                   what="delete")
        # A ruleset reload empties the sets; SIGHUP puts them back.
        subprocess.run(["ip", "netns", "exec", netns, "nft", "flush", "set",
                        "inet", "pbsd", "relay6"], check=True, timeout=20)
        assert nft_set(netns, "relay6") == {}
        os.kill(p.proc.pid, signal.SIGHUP)
        p.wait_for(lambda: "2001:db8::10" in nft_set(netns, "relay6"),
                   what="re-sync on SIGHUP")
        assert p.ctl("flush")[0] == 0
        p.wait_for(lambda: nft_set(netns, "relay4") == {} and
                   nft_set(netns, "relay6") == {}, what="flush")
        assert p.stats()["nft_errors"] == 0
        # The kernel expires elements by itself.
        assert p.ctl("add", "192.0.2.12", "2")[0] == 0
        p.wait_for(lambda: "192.0.2.12" in nft_set(netns, "relay4"),
                   what="short element")
        time.sleep(3)
        assert "192.0.2.12" not in nft_set(netns, "relay4")
    finally:
        p.close()
        shutil.rmtree(root, ignore_errors=True)


# --- interval sets, refresh, reload, the documented rulesets -------------

RULESET64 = """
flush ruleset
table inet pbsd {
	set relay4 { type ipv4_addr; flags timeout; timeout 30m; }
	set relay6 { type ipv6_addr; flags interval, timeout; timeout 30m; }
}
"""

NFT_EXTRA = "nft_table = pbsd\nnft_set4 = relay4\nnft_set6 = relay6\n"


def nsrun(ns, *cmd, **kw):
    return subprocess.run(["ip", "netns", "exec", ns] + list(cmd),
                          capture_output=True, text=True, timeout=20, **kw)


def load(ns, text):
    r = nsrun(ns, "nft", "-f", "-", input=text)
    assert r.returncode == 0, r.stderr


def get_element(ns, set_name, addr):
    """True if the kernel finds addr in the set (nft get element)."""
    r = nsrun(ns, "nft", "get", "element", "inet", "pbsd", set_name,
              "{ %s }" % addr)
    return r.returncode == 0


def expires(text):
    """Seconds left from an element's 'expires 1m2s345ms' (or None)."""
    m = re.search(r"expires ((?:\d+[dhms]+)+)", text)
    if not m:
        return None
    total = 0.0
    for num, unit in re.findall(r"(\d+)(ms|d|h|m|s)", m.group(1)):
        total += int(num) * {"d": 86400, "h": 3600, "m": 60, "s": 1,
                             "ms": 0.001}[unit]
    return total


@pytest.fixture
def nftroot():
    d = make_tmpdir("pbsd-nft.")
    yield d
    shutil.rmtree(d, ignore_errors=True)


def nft_pbsd(root, ns, **kw):
    return Pbsd(os.path.join(root, "p"), wrapper=["ip", "netns", "exec", ns],
                extra=NFT_EXTRA + kw.pop("extra", ""), **kw)


def test_nft_ipv6_prefix64_interval(netns, nftroot):
    load(netns, RULESET64)
    p = nft_pbsd(nftroot, netns, expire=60, extra="ipv6_prefix = 64\n")
    try:
        p.start()
        p.send(EV_LOGIN_OK, "2001:db8:1:2::5")
        p.send(EV_LOGIN_OK, "::ffff:192.0.2.20")     # folded to IPv4
        p.wait_for(lambda: "2001:db8:1:2::/64" in nft_set(netns, "relay6"),
                   what="the /64 interval element")
        e = nft_set(netns, "relay6")["2001:db8:1:2::/64"]
        assert "timeout 1m" in e and expires(e) > 50, e
        assert list(nft_set(netns, "relay6")) == ["2001:db8:1:2::/64"]
        assert "192.0.2.20" in nft_set(netns, "relay4")
        # Every address of the /64 matches, its neighbours do not.
        for inside in ("2001:db8:1:2::5", "2001:db8:1:2::",
                       "2001:db8:1:2:ffff:ffff:ffff:ffff",
                       "2001:db8:1:2:abcd::1"):
            assert get_element(netns, "relay6", inside), inside
        for outside in ("2001:db8:1:3::", "2001:db8:1:1:ffff:ffff:ffff:ffff",
                        "2001:db8::5"):
            assert not get_element(netns, "relay6", outside), outside
        # A second /64 next to it; a refresh of the first keeps one element.
        p.send(EV_LOGIN_OK, "2001:db8:1:3::9")
        p.send(EV_SESSION_ALIVE, "2001:db8:1:2::77")
        p.wait_for(lambda: "2001:db8:1:3::/64" in nft_set(netns, "relay6"),
                   what="second /64")
        assert sorted(nft_set(netns, "relay6")) == ["2001:db8:1:2::/64",
                                                    "2001:db8:1:3::/64"]
        assert get_element(netns, "relay6", "2001:db8:1:3::1")
        # Delete one; a short manual entry expires in the kernel, leaving
        # no end element behind.
        assert p.ctl("del", "2001:db8:1:2::/64")[0] == 0
        p.wait_for(lambda: "2001:db8:1:2::/64" not in
                   nft_set(netns, "relay6"), what="delete of a /64")
        assert not get_element(netns, "relay6", "2001:db8:1:2::5")
        assert get_element(netns, "relay6", "2001:db8:1:3::1")
        assert p.ctl("del", "2001:db8:1:3::/64")[0] == 0
        assert p.ctl("add", "2001:db8:9:9::/64", "2")[0] == 0
        p.wait_for(lambda: "2001:db8:9:9::/64" in nft_set(netns, "relay6"),
                   what="short /64")
        time.sleep(3.5)
        assert nft_set(netns, "relay6") == {}
        assert not get_element(netns, "relay6", "2001:db8:9:9::1")
        assert p.stats()["nft_errors"] == 0
        assert "nft:" not in p.logtext(), p.logtext()
    finally:
        p.close()


def test_nft_prefix64_on_plain_set_is_reported(netns, nftroot):
    # The default RULESET's relay6 has no "flags interval": the writer
    # logs the kernel's refusal and pbsd keeps running.
    p = nft_pbsd(nftroot, netns, expire=60, extra="ipv6_prefix = 64\n")
    try:
        p.start()
        p.send(EV_LOGIN_OK, "2001:db8:1:2::5")
        p.wait_for(lambda: "nft: refresh 2001:db8:1:2::/64" in p.logtext(),
                   what="the writer's warning")
        assert nft_set(netns, "relay6") == {}
        p.send(EV_LOGIN_OK, "192.0.2.30")
        p.wait_for(lambda: "192.0.2.30" in nft_set(netns, "relay4"),
                   what="IPv4 still works")
    finally:
        p.close()


@pytest.mark.parametrize("addr,set_name,key", [
    ("192.0.2.40", "relay4", "192.0.2.40"),
    ("2001:db8:1:2::5", "relay6", "2001:db8:1:2::/64"),
])
def test_nft_refresh_restarts_timeout(netns, nftroot, addr, set_name, key):
    load(netns, RULESET64)
    p = nft_pbsd(nftroot, netns, expire=30,
                 extra="ipv6_prefix = 64\nflush_interval = 0\n")
    try:
        p.start()
        p.send(EV_LOGIN_OK, addr)
        p.wait_for(lambda: key in nft_set(netns, set_name), what="element")
        time.sleep(3)
        before = expires(nft_set(netns, set_name)[key])
        assert before is not None and before < 28, before
        p.send(EV_SESSION_ALIVE, addr)
        p.wait_for(lambda: p.stats()["refreshes"] == 1, what="refresh")
        p.wait_for(lambda: expires(nft_set(netns, set_name)[key]) >
                   before + 2, what="the remaining time to go back up")
        assert expires(nft_set(netns, set_name)[key]) > 28
        assert list(nft_set(netns, set_name)) == [key]
    finally:
        p.close()


def test_nft_ruleset_reload_readds_without_sighup(netns, nftroot):
    load(netns, RULESET64)
    p = nft_pbsd(nftroot, netns, expire=600, extra="ipv6_prefix = 64\n")
    try:
        p.start()
        addrs4 = ["192.0.2.%d" % i for i in range(1, 151)]
        for a in addrs4:
            p.send(EV_LOGIN_OK, a)
        # 130 /64 intervals: resync messages of the largest kind (64
        # two-element intervals each, review L1: within the batch limit).
        for i in range(1, 131):
            p.send(EV_LOGIN_OK, "2001:db8:5:%x::1" % i)
        p.wait_for(lambda: len(nft_set(netns, "relay4")) == 150 and
                   len(nft_set(netns, "relay6")) == 130 and
                   "2001:db8:5:6::/64" in nft_set(netns, "relay6"),
                   what="elements")
        time.sleep(2)
        # Debian's /etc/nftables.conf style: "flush ruleset" + the sets.
        load(netns, RULESET64)
        t0 = time.time()
        p.wait_for(lambda: len(nft_set(netns, "relay4")) == 150 and
                   len(nft_set(netns, "relay6")) == 130 and
                   "2001:db8:5:6::/64" in nft_set(netns, "relay6"),
                   timeout=3, what="elements back without SIGHUP")
        assert time.time() - t0 < 3
        e = nft_set(netns, "relay4")["192.0.2.1"]
        # Put back with the remaining time, not a fresh full timeout.
        assert 500 < expires(e) <= 598, e
        assert get_element(netns, "relay6", "2001:db8:5:6::abc")
        # Only one set re-created: only that one is refilled.
        r = nsrun(netns, "nft", "delete", "set", "inet", "pbsd", "relay4")
        assert r.returncode == 0, r.stderr
        load(netns, "add set inet pbsd relay4 "
                    "{ type ipv4_addr; flags timeout; }\n")
        p.wait_for(lambda: len(nft_set(netns, "relay4")) == 150,
                   timeout=3, what="relay4 refilled")
        assert "set re-created" in p.logtext()
        assert p.stats()["nft_errors"] == 0
    finally:
        p.close()


def doc_rulesets():
    """The nftables rulesets printed in pbsd.conf(5), verbatim."""
    with open(os.path.join(REPO, "docs", "pbsd.conf.5")) as f:
        text = f.read()
    blocks = re.findall(r"^\.Bd -literal[^\n]*\n(.*?)^\.Ed$", text,
                        re.S | re.M)
    res = [b for b in blocks if b.startswith("table inet pbsd {")]
    assert len(res) == 2, "expected the /128 and the /64 example"
    return res


CONNECT = r"""
import socket, sys, threading
lst = []
for fam, host in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "2001:db8::1")):
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((host, 587)); s.listen(16); lst.append(s)
for src in sys.argv[1:]:
    fam = socket.AF_INET6 if ":" in src else socket.AF_INET
    dst = "2001:db8::1" if ":" in src else "127.0.0.1"
    c = socket.socket(fam, socket.SOCK_STREAM); c.settimeout(3)
    c.bind((src, 0))
    try:
        c.connect((dst, 587)); print(src, "ok")
    except OSError as e:
        print(src, type(e).__name__)
    c.close()
"""


def reachable(ns, *sources):
    r = nsrun(ns, "/usr/bin/python3", "-c", CONNECT, *sources)
    assert r.returncode == 0, r.stderr
    return {l.split()[0]: l.split()[1] == "ok" for l in r.stdout.splitlines()}


@pytest.mark.parametrize("which", [0, 1])
def test_nft_documented_ruleset(netns, nftroot, which):
    ruleset = doc_rulesets()[which]
    for a in ("2001:db8::1", "2001:db8::2", "2001:db8:1:2::5", "2001:db8:7::5"):
        r = subprocess.run(["ip", "-n", netns, "addr", "add", a + "/128",
                            "dev", "lo", "nodad"], capture_output=True,
                           text=True, timeout=20)
        assert r.returncode == 0, r.stderr
    nsrun(netns, "nft", "flush", "ruleset")
    load(netns, ruleset)
    six = "2001:db8:1:2::5"
    p = nft_pbsd(nftroot, netns, expire=60,
                 extra="ipv6_prefix = 64\n" if which else "")
    try:
        p.start()
        srcs = ("127.0.0.2", "127.0.0.3", six, "2001:db8:7::5")
        assert not any(reachable(netns, *srcs).values())
        p.send(EV_LOGIN_OK, "127.0.0.2")
        p.send(EV_LOGIN_OK, "2001:db8:1:2::99" if which else six)
        p.wait_for(lambda: len(nft_set(netns, "relay6")) == 1 and
                   len(nft_set(netns, "relay4")) == 1, what="elements")
        assert reachable(netns, *srcs) == {
            "127.0.0.2": True, "127.0.0.3": False, six: True,
            "2001:db8:7::5": False}
    finally:
        p.close()
