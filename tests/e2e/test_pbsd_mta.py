# Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
#
# pbsd's Berkeley DB files read by the real Sendmail and Exim binaries of
# Debian 12 (unpacked by scripts/deps.sh into build/mta/root: they cannot
# be installed beside Postfix).  pbsd gets real login-ok datagrams, then:
#   Exim:     exim4 -C <minimal conf> -be, ${lookup{ADDR}dbmnz{relay.db}}
#   Sendmail: the shipped docs/examples/pbsd.m4 hack built into a .cf with
#             the unpacked sendmail-cf m4 files, then sendmail -C cf -bt:
#             /map and check_rcpt with ${client_addr} set; and the same
#             for pbsd's Sendmail access map output (RELAY values) used as
#             FEATURE(access_db).
# Yes for recorded addresses, no for others and after expiry; IPv6 in the
# spelling each MTA uses, IPv4-mapped folded to IPv4.  Files live under
# /run: Sendmail ignores maps below a world-writable directory such as
# /tmp.  sendmail runs in "unshare -u" with a dotted host name (otherwise
# it sleeps 60 s on this machine's unqualified name).  Runs as root; every
# process started here is waited for.

import os
import shutil
import subprocess
import tempfile
import time

import pytest

from pbsd_fixtures import EV_LOGIN_OK, REPO, Pbsd

MTA = os.environ.get("BAILEY_MTA_DIR", os.path.join(REPO, "build", "mta"))
MTA_ROOT = os.path.join(MTA, "root")
EXIM = os.path.join(MTA_ROOT, "usr", "sbin", "exim4")
SENDMAIL = os.path.join(MTA_ROOT, "usr", "libexec", "sendmail", "sendmail")
CF_DIR = os.path.join(MTA_ROOT, "usr", "share", "sendmail", "cf")
HACK = os.path.join(REPO, "docs", "examples", "pbsd.m4")

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0, reason="needs root (pbsd drops to nobody)")

RCPT = "<someone@remote.example.net>"
V6 = "IPv6:2001:db8:0:0:0:0:0:2"     # Sendmail's ${client_addr} of 2001:db8::2


def test_mtas_unpacked():
    # Not a skip: scripts/deps.sh (make check runs it) provides them.
    for path in (EXIM, SENDMAIL, os.path.join(CF_DIR, "m4", "cf.m4")):
        assert os.path.exists(path), "%s missing: run scripts/deps.sh" % path
    assert shutil.which("m4"), "m4 missing: run scripts/deps.sh"
    for b in (EXIM, SENDMAIL):
        r = subprocess.run(["ldd", b], capture_output=True, text=True,
                           timeout=20)
        assert "not found" not in r.stdout, r.stdout


@pytest.fixture(scope="module")
def root():
    d = tempfile.mkdtemp(prefix="pbsd-mta.", dir="/run")
    os.chmod(d, 0o755)
    yield d
    if not os.environ.get("BAILEY_E2E_KEEP"):
        shutil.rmtree(d, ignore_errors=True)


def start_pbsd(root, name, expire=1800):
    """pbsd with the shared table (Postfix/Exim keys plus Sendmail's IPv6
    spelling, value OK) and a Sendmail access map output (RELAY)."""
    base = os.path.join(root, name)
    access = os.path.join(base, "db", "access.db")
    p = Pbsd(base, expire=expire, flush_interval=0,
             db_opts="output_keys = postfix sendmail\n",
             extra="output = hash %s\noutput_keys = sendmail\n"
                   "output_value = RELAY\n" % access)
    p.access = access
    return p.start()


def db_keys(path):
    """The keys of a Berkeley DB file (db5.3_dump -p; pbsd writes no NUL)."""
    r = subprocess.run(["db5.3_dump", "-p", path], capture_output=True,
                       text=True, timeout=20)
    if r.returncode != 0:
        return set()
    lines = r.stdout.split("HEADER=END\n", 1)[-1].splitlines()
    data = [l[1:] for l in lines if l.startswith(" ")]
    return set(data[0::2])


def wait_written(p, keys):
    """Until pbsd's last output (the access map) holds exactly keys; the
    shared table is written before it in the same flush."""
    want = set("ipv6:" + k[5:].lower() if k.startswith("IPv6:") else k
               for k in keys)
    p.wait_for(lambda: db_keys(p.access) == want, what="pbsd to write %s"
               % sorted(want))


# --- Exim ----------------------------------------------------------------

EXIM_CONF = """\
exim_user = root
exim_group = root
spool_directory = {d}/spool
log_file_path = {d}/log/%slog
primary_hostname = pbsd-test.example.org
"""


class Exim:
    def __init__(self, d):
        self.d = d
        os.makedirs(os.path.join(d, "spool"))
        os.makedirs(os.path.join(d, "log"))
        self.conf = os.path.join(d, "exim.conf")
        with open(self.conf, "w") as f:
            f.write(EXIM_CONF.format(d=d))

    def lookup(self, key, db):
        # The expression on stdin: as an argument a long one hits Exim's
        # 256-byte recipient limit (research/pbsd.md, appendix B).
        expr = "${lookup{%s}dbmnz{%s}{yes}{no}}\n" % (key, db)
        r = subprocess.run([EXIM, "-C", self.conf, "-be"], input=expr,
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, r.stderr
        out = [l.lstrip("> ").strip() for l in r.stdout.splitlines()]
        out = [l for l in out if l]
        assert out in (["yes"], ["no"]), (r.stdout, r.stderr)
        return out[0] == "yes"


def test_exim_reads_pbsd_table(root):
    p = start_pbsd(root, "exim", expire=4)
    try:
        ex = Exim(os.path.join(root, "exim-run"))
        assert not ex.lookup("127.0.0.1", p.db)       # valid, empty table
        p.send(EV_LOGIN_OK, "127.0.0.1")
        p.send(EV_LOGIN_OK, "2001:DB8::2")             # upper case in
        p.send(EV_LOGIN_OK, "::ffff:192.0.2.7")
        wait_written(p, ["127.0.0.1", V6, "192.0.2.7"])
        assert ex.lookup("127.0.0.1", p.db)
        assert not ex.lookup("127.0.0.2", p.db)
        # $sender_host_address spelling: compressed, lower case.
        assert ex.lookup("2001:db8::2", p.db)
        assert not ex.lookup("2001:db8::3", p.db)
        assert not ex.lookup("2001:db8:0:0:0:0:0:2", p.db)
        # IPv4-mapped arrives as IPv4 (as Exim strips ::ffff: too).
        assert ex.lookup("192.0.2.7", p.db)
        assert not ex.lookup("::ffff:192.0.2.7", p.db)
        # Expiry (4 s) removes them from the file Exim reads.
        p.wait_for(lambda: p.entries() == {}, timeout=15, what="expiry")
        wait_written(p, [])
        for a in ("127.0.0.1", "2001:db8::2", "192.0.2.7"):
            assert not ex.lookup(a, p.db), a
    finally:
        p.close()


# --- Sendmail ------------------------------------------------------------

MC = """\
divert(-1)
divert(0)dnl
VERSIONID(`pbsd e2e')dnl
OSTYPE(`linux')dnl
define(`confDOMAIN_NAME', `pbsd-test.example.org')dnl
define(`QUEUE_DIR', `{d}/queue')dnl
FEATURE(`access_db', `hash -T<TMPF> -o {access}')dnl
HACK(`pbsd', `{relay}')dnl
MAILER(`local')dnl
MAILER(`smtp')dnl
"""


class Sendmail:
    """A sendmail.cf built from MC with the shipped hack, and -bt runs."""

    def __init__(self, d, relay, access):
        self.d = d
        cf_dir = os.path.join(d, "cf")
        shutil.copytree(CF_DIR, cf_dir)
        # Where an administrator installs it.
        shutil.copy(HACK, os.path.join(cf_dir, "hack", "pbsd.m4"))
        os.makedirs(os.path.join(d, "queue"))
        mc = os.path.join(d, "pbsd.mc")
        with open(mc, "w") as f:
            f.write(MC.replace("{d}", d).replace("{access}", access)
                    .replace("{relay}", relay))
        self.cf = os.path.join(d, "pbsd.cf")
        with open(self.cf, "w") as f:
            r = subprocess.run(["m4", "-D_CF_DIR_=%s/" % cf_dir,
                                os.path.join(cf_dir, "m4", "cf.m4"), mc],
                               stdout=f, stderr=subprocess.PIPE, text=True,
                               timeout=60)
        assert r.returncode == 0, r.stderr
        with open(self.cf) as f:
            text = f.read()
        assert "Kpbsd hash -o -a<PBSD> %s\n" % relay in text
        assert "SLocal_check_rcpt" in text

    def bt(self, lines):
        r = subprocess.run(
            ["unshare", "-u", "sh", "-c",
             'hostname pbsd-test.example.org && exec "$0" -C "$1" -bt',
             SENDMAIL, self.cf], input="\n".join(lines) + "\n",
            capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        assert "not open" not in r.stdout, r.stdout
        return r.stdout

    def maps(self, name, keys):
        """map_lookup result per key: the value, or None."""
        out = self.bt(["/map %s %s" % (name, k) for k in keys])
        res = []
        for line in out.splitlines():
            if "map_lookup:" not in line:
                continue
            if "no match" in line:
                res.append(None)
            else:
                res.append(line.split(" returns ")[1].rsplit(" (", 1)[0])
        assert len(res) == len(keys), out
        return dict(zip(keys, res))

    def check_rcpt(self, clients):
        """check_rcpt's final answer per client address (${client_addr})."""
        lines = []
        for c in clients:
            lines += [".D{client_addr}" + c, "check_rcpt " + RCPT]
        out = self.bt(lines)
        res = [l.split("returns:", 1)[1].strip() for l in out.splitlines()
               if l.lstrip("> ").startswith("check_rcpt") and
               "returns:" in l]
        assert len(res) == len(clients), out
        return dict(zip(clients, res))


DENIED = '$# error $@ 5 . 7 . 1 $: "550 Relaying denied"'


def test_sendmail_hack_and_access_map(root):
    p = start_pbsd(root, "sendmail", expire=4)
    try:
        sm = Sendmail(os.path.join(root, "sendmail-run"), p.db[:-3],
                      p.access[:-3])
        clients = ["127.0.0.2", "127.0.0.3", V6, "192.0.2.9"]
        # Before: both maps exist (pbsd wrote them empty), nothing relays.
        assert sm.check_rcpt(clients) == dict.fromkeys(clients, DENIED)
        p.send(EV_LOGIN_OK, "127.0.0.2")
        p.send(EV_LOGIN_OK, "2001:db8::2")
        p.send(EV_LOGIN_OK, "::ffff:192.0.2.9")
        wait_written(p, ["127.0.0.2", V6, "192.0.2.9"])
        # The hack's map: Sendmail's own spellings, lower-cased.
        assert sm.maps("pbsd", ["127.0.0.2", "127.0.0.3", V6,
                                "192.0.2.9"]) == {
            "127.0.0.2": "OK<PBSD>", "127.0.0.3": None,
            V6: "OK<PBSD>", "192.0.2.9": "OK<PBSD>"}
        # The access map output: RELAY for the same addresses.
        assert sm.maps("access", ["127.0.0.2", V6, "127.0.0.3"]) == {
            "127.0.0.2": "RELAY", V6: "RELAY", "127.0.0.3": None}
        got = sm.check_rcpt(clients)
        assert got["127.0.0.2"] == "$# OK", got
        assert got[V6] == "$# OK", got
        assert got["192.0.2.9"] == "$# OK", got
        assert got["127.0.0.3"] == DENIED, got
        # Expired: denied again, both maps empty.
        p.wait_for(lambda: p.entries() == {}, timeout=15, what="expiry")
        wait_written(p, [])
        assert sm.check_rcpt(clients) == dict.fromkeys(clients, DENIED)
        assert set(sm.maps("access", ["127.0.0.2", V6]).values()) == {None}
    finally:
        p.close()


def test_sendmail_access_map_alone(root):
    # Without the hack, pbsd's access map output alone (Sendmail's
    # FEATURE(access_db)) makes check_rcpt answer RELAY.
    p = start_pbsd(root, "access-only", expire=1800)
    try:
        d = os.path.join(root, "access-run")
        sm = Sendmail(d, os.path.join(d, "no-such-table"), p.access[:-3])
        p.send(EV_LOGIN_OK, "127.0.0.4")
        p.send(EV_LOGIN_OK, "2001:db8::2")
        wait_written(p, ["127.0.0.4", V6])
        r = subprocess.run(
            ["unshare", "-u", "sh", "-c",
             'hostname pbsd-test.example.org && exec "$0" -C "$1" -bt',
             SENDMAIL, sm.cf],
            input=".D{client_addr}127.0.0.4\ncheck_rcpt %s\n"
                  ".D{client_addr}%s\ncheck_rcpt %s\n"
                  ".D{client_addr}127.0.0.5\ncheck_rcpt %s\n" %
                  (RCPT, V6, RCPT, RCPT),
            capture_output=True, text=True, timeout=60)
        res = [l.split("returns:", 1)[1].strip() for l in
               r.stdout.splitlines() if l.lstrip("> ").startswith(
                   "check_rcpt") and "returns:" in l]
        assert res == ["RELAY", "RELAY", DENIED], r.stdout
    finally:
        p.close()


def test_sendmail_classic_connect_map(root):
    # output_keys = sendmail-connect: the classic access map ("connect:IP"
    # -> RELAY) in a file of its own; Sendmail's check_rcpt relays from the
    # recorded clients only, and the keys really carry the tag.
    base = os.path.join(root, "connect")
    access = os.path.join(base, "db", "access.db")
    p = Pbsd(base, expire=1800, flush_interval=0,
             db_opts="output_keys = postfix\n",
             extra="output = hash %s\noutput_keys = sendmail-connect\n"
                   "output_value = RELAY\n" % access).start()
    try:
        d = os.path.join(root, "connect-run")
        sm = Sendmail(d, os.path.join(d, "no-such-table"), access[:-3])
        p.send(EV_LOGIN_OK, "127.0.0.6")
        p.send(EV_LOGIN_OK, "2001:db8::2")
        want = {"connect:127.0.0.6", "connect:ipv6:2001:db8:0:0:0:0:0:2"}
        p.wait_for(lambda: db_keys(access) == want,
                   what="pbsd to write %s" % sorted(want))
        got = sm.check_rcpt(["127.0.0.6", V6, "127.0.0.7"])
        assert got == {"127.0.0.6": "RELAY", V6: "RELAY",
                       "127.0.0.7": DENIED}, got
    finally:
        p.close()
