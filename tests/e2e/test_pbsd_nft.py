# Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
#
# End-to-end test of pbsd's nftables output, inside a network namespace the
# test creates (ip netns add) and deletes again: per-element timeouts,
# refresh, delete, flush, re-sync on SIGHUP, and the writer process running
# as nobody with CAP_NET_ADMIN only.  Runs as root; stops what it starts.

import os
import re
import shutil
import signal
import subprocess
import time

import pytest

from pbsd_fixtures import EV_LOGIN_OK, Pbsd, make_tmpdir

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
