#!/usr/bin/python3
# Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
#
# pbsd_bench.py: the pbsd section of `make bench` (called by run.py) and
# its self-test (`make bench-selftest`).  Starts private pbsd processes on
# a work directory (as the invoking user, or as nobody when root), feeds
# them login-ok datagrams over their unix socket and measures, as medians
# over repeated runs:
#   * ingest: events/s for distinct addresses, with a Berkeley DB output;
#   * latency: login-ok datagram sent -> the renamed DB file seen by
#     inotify (a new reader sees the key from then on; each sample is
#     checked with db5.3_dump), p50 and p99;
#   * rewrite: one flush (state file + hash output) of a 10,000 and a
#     100,000 entry table, split into the hash file's share; baseline:
#     postmap building the same map from a text file in this run.
# Trusts the build; stops what it starts by PID, also on failure.
#
#   pbsd_bench.py            print the section (QUICK=1: a few seconds)
#   pbsd_bench.py --selftest short functional checks, "N passed, N failed"

import ctypes
import os
import select
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BUILD = os.environ.get("BAILEY_BUILD", os.path.join(ROOT, "build"))
QUICK = os.environ.get("QUICK", "") not in ("", "0")

MAGIC = 0x50425344
EV_LOGIN_OK = 1
PROTO_IMAP = 2
IN_MOVED_TO = 0x80

if QUICK:
    ROUNDS, N_INGEST, N_LAT, SIZES, SIZE_REPS = 1, 5000, 20, (10000,), 3
else:
    ROUNDS, N_INGEST, N_LAT, SIZES, SIZE_REPS = 3, 50000, 200, \
        (10000, 100000), 5


def log(msg):
    print("bench: pbsd: " + msg, file=sys.stderr, flush=True)


def record(ip4):
    """A login-ok record (pbsd/pbsd_proto.h) for an IPv4 address int."""
    return (struct.pack(">IBBBB", MAGIC, 1, EV_LOGIN_OK, 4, PROTO_IMAP) +
            struct.pack(">I", ip4) + b"\x05bench")


def ip_text(ip4):
    return socket.inet_ntoa(struct.pack(">I", ip4))


def addr(i):
    """The i-th benchmark address: 10.0.0.0/8 upwards."""
    return (10 << 24) + 1 + i


class Inotify:
    """IN_MOVED_TO events of one directory (libc through ctypes)."""

    def __init__(self, path):
        self.libc = ctypes.CDLL(None, use_errno=True)
        self.fd = self.libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        if self.fd < 0:
            raise OSError(ctypes.get_errno(), "inotify_init1")
        if self.libc.inotify_add_watch(self.fd, path.encode(),
                                       IN_MOVED_TO) < 0:
            os.close(self.fd)
            raise OSError(ctypes.get_errno(), "inotify_add_watch " + path)

    def wait(self, names, timeout=30):
        """Monotonic time at which each of names was renamed into place."""
        seen = {}
        deadline = time.monotonic() + timeout
        while len(seen) < len(names):
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no rename of %s" % sorted(
                    set(names) - set(seen)))
            r, _, _ = select.select([self.fd], [], [], left)
            if not r:
                continue
            now = time.monotonic()
            buf = os.read(self.fd, 65536)
            off = 0
            while off + 16 <= len(buf):
                _, _, _, ln = struct.unpack_from("iIII", buf, off)
                name = buf[off + 16:off + 16 + ln].split(b"\0")[0].decode()
                off += 16 + ln
                if name in names and name not in seen:
                    seen[name] = now
        return seen

    def drain(self):
        try:
            while os.read(self.fd, 65536):
                pass
        except BlockingIOError:
            pass

    def close(self):
        os.close(self.fd)


class Pbsd:
    """One pbsd with a state file and one hash output in its own dir."""

    def __init__(self, root, flush_interval=1, state_lines=None):
        self.root = root
        os.makedirs(root, mode=0o755)
        self.sock = os.path.join(root, "run", "pbsd.sock")
        self.control = os.path.join(root, "run", "control.sock")
        self.dbdir = os.path.join(root, "db")
        self.db = os.path.join(self.dbdir, "relay.db")
        self.state = os.path.join(self.dbdir, "state")
        self.conf = os.path.join(root, "pbsd.conf")
        self.logf = os.path.join(root, "pbsd.log")
        user = "nobody" if os.geteuid() == 0 else \
            __import__("pwd").getpwuid(os.geteuid()).pw_name
        with open(self.conf, "w") as f:
            f.write("socket_path = %s\nsocket_mode = 0666\n"
                    "control_path = %s\nstate_file = %s\nuser = %s\n"
                    "allow_uid = %d\nexpire = 3600\nflush_interval = %d\n"
                    "max_entries = 1000000\noutput = hash %s\n" % (
                        self.sock, self.control, self.state, user,
                        os.geteuid(), flush_interval, self.db))
        if state_lines is not None:
            os.makedirs(self.dbdir, mode=0o755)
            if os.geteuid() == 0:
                shutil.chown(self.dbdir, user)
            with open(self.state, "w") as f:
                f.writelines(state_lines)
        self.proc = None
        self.client = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)

    def start(self):
        with open(self.logf, "ab") as logf:
            self.proc = subprocess.Popen(
                [os.path.join(BUILD, "bin", "pbsd"), "-d", "-f", self.conf],
                stdin=subprocess.DEVNULL, stdout=logf, stderr=logf)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("pbsd exited: " + self.logtext())
            try:
                self.stats()
                return self
            except (OSError, RuntimeError):
                time.sleep(0.02)
        raise RuntimeError("pbsd did not start: " + self.logtext())

    def logtext(self):
        try:
            with open(self.logf, errors="replace") as f:
                return f.read()[-2000:]
        except OSError:
            return ""

    def stats(self):
        r = subprocess.run([os.path.join(BUILD, "bin", "pbsctl"), "-s",
                            self.control, "stats"], capture_output=True,
                           text=True, timeout=20)
        if r.returncode != 0:
            raise RuntimeError(r.stderr)
        return {k: int(v) for k, v in (l.split() for l in
                                        r.stdout.splitlines())}

    def send(self, data):
        while True:
            try:
                self.client.sendto(data, self.sock)
                return
            except (BlockingIOError, InterruptedError):
                time.sleep(0.0005)
            except OSError as e:
                if e.errno not in (11, 105):
                    raise
                time.sleep(0.0005)

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.proc = None
        self.client.close()


def cpu_seconds(pid):
    """utime + stime of a process, in seconds."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def db_has(path, key):
    r = subprocess.run(["db5.3_dump", "-p", path], capture_output=True,
                       text=True, timeout=60)
    return r.returncode == 0 and ("\n %s\n" % key) in r.stdout


# -- measurements ----------------------------------------------------------

def bench_ingest(work, n):
    """events/s for n login-ok datagrams of distinct addresses."""
    p = Pbsd(os.path.join(work, "ingest"), flush_interval=1).start()
    try:
        recs = [record(addr(i)) for i in range(n)]
        c0 = cpu_seconds(p.proc.pid)
        t0 = time.monotonic()
        for r in recs:
            p.send(r)
        sent = time.monotonic()
        while p.stats()["logins"] < n:
            if time.monotonic() - t0 > 120:
                raise RuntimeError("pbsd took logins too slowly")
            time.sleep(0.005)
        t1 = time.monotonic()
        cpu = max(cpu_seconds(p.proc.pid) - c0, 0.01)
        s = p.stats()
        assert s["entries"] == n and s["dropped_format"] == 0, s
        return {"events_s": n / (t1 - t0), "send_s": n / (sent - t0),
                "events_cpu_s": n / cpu}
    finally:
        p.stop()


def bench_latency(work, samples, background=1000):
    """ms from sendto() of a login-ok to relay.db renamed into place."""
    state = ["%s 4102444800\n" % ip_text(addr(1000000 + i))
             for i in range(background)]
    p = Pbsd(os.path.join(work, "latency"), flush_interval=0,
             state_lines=state).start()
    ino = Inotify(p.dbdir)
    try:
        lat = []
        for i in range(samples):
            a = addr(i)
            ino.drain()
            t0 = time.monotonic()
            p.send(record(a))
            t1 = ino.wait(["relay.db"])["relay.db"]
            lat.append((t1 - t0) * 1000)
            if i < 5 or i % 10 == 0:
                assert db_has(p.db, ip_text(a)), "key not in relay.db"
            time.sleep(0.01)
        return lat
    finally:
        ino.close()
        p.stop()


def bench_rewrite(work, size, reps):
    """One flush of a table of size entries: total and the hash file."""
    state = ["%s 4102444800\n" % ip_text(addr(2000000 + i))
             for i in range(size)]
    p = Pbsd(os.path.join(work, "rewrite%d" % size), flush_interval=0,
             state_lines=state).start()
    ino = Inotify(p.dbdir)
    try:
        total, dbpart = [], []
        for i in range(reps):
            ino.drain()
            t0 = time.monotonic()
            p.send(record(addr(i)))
            seen = ino.wait(["state", "relay.db"])
            total.append((seen["relay.db"] - t0) * 1000)
            dbpart.append((seen["relay.db"] - seen["state"]) * 1000)
            time.sleep(0.05)
        assert p.stats()["entries"] == size + reps
        return total, dbpart
    finally:
        ino.close()
        p.stop()


def bench_postmap(work, size, reps):
    """Baseline: postmap hash:FILE from a text file of size lines (ms)."""
    if shutil.which("postmap") is None:
        return None
    d = os.path.join(work, "postmap%d" % size)
    os.makedirs(d)
    src = os.path.join(d, "relay")
    with open(src, "w") as f:
        f.writelines("%s OK\n" % ip_text(addr(2000000 + i))
                     for i in range(size))
    res = []
    for _ in range(reps):
        t0 = time.monotonic()
        r = subprocess.run(["postmap", "hash:" + src], capture_output=True,
                           text=True, timeout=300)
        res.append((time.monotonic() - t0) * 1000)
        if r.returncode != 0:
            log("postmap failed: " + r.stderr.strip())
            return None
    return res


def pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q / 100.0 * (len(xs) - 1))))]


def run_all(work):
    ingest, send, percpu, p50, p99 = [], [], [], [], []
    rw = {s: ([], []) for s in SIZES}
    pm = {s: [] for s in SIZES}
    for rnd in range(ROUNDS):
        r = bench_ingest(os.path.join(work, "r%d" % rnd), N_INGEST)
        ingest.append(r["events_s"])
        send.append(r["send_s"])
        percpu.append(r["events_cpu_s"])
        lat = bench_latency(os.path.join(work, "r%d" % rnd), N_LAT)
        p50.append(pct(lat, 50))
        p99.append(pct(lat, 99))
        for s in SIZES:
            t, d = bench_rewrite(os.path.join(work, "r%d" % rnd), s,
                                 SIZE_REPS)
            rw[s][0].extend(t)
            rw[s][1].extend(d)
            b = bench_postmap(os.path.join(work, "r%d" % rnd), s, SIZE_REPS)
            if b is not None:
                pm[s].extend(b)
        log("round %d: %.0f events/s, latency p50 %.1f ms p99 %.1f ms" % (
            rnd + 1, ingest[-1], p50[-1], p99[-1]))
    return ingest, send, percpu, p50, p99, rw, pm


def section(results):
    ingest, send, percpu, p50, p99, rw, pm = results
    med = statistics.median
    lines = [
        "## pbsd", "",
        "pbsd with its state file and one hash output (Berkeley DB), run "
        "as %s; medians over %d round(s).  Events come from one Python "
        "sender on the unix datagram socket (its own rate: %.0f/s)." % (
            "nobody" if os.geteuid() == 0 else "the invoking user",
            ROUNDS, med(send)), "",
        "| measurement | pbsd | baseline | ratio |",
        "|---|---:|---:|---:|",
        "| ingest: %d login-ok, distinct addresses, flush_interval 1 "
        "(events/s, wall clock) | %.0f | - | - |" % (N_INGEST, med(ingest)),
        "| same, per CPU second of pbsd (its capacity when the sender is "
        "not the limit) | %.0f | - | - |" % med(percpu),
        "| login-ok -> relay.db renamed (inotify), 1,000 entries, "
        "flush_interval 0, %d samples: p50 | %.2f ms | - | - |" % (
            N_LAT, med(p50)),
        "| same, p99 | %.2f ms | - | - |" % med(p99)]
    for s in SIZES:
        t, d = rw[s]
        base = "%.1f ms" % med(pm[s]) if pm[s] else "n/a"
        ratio = "%.2fx" % (med(d) / med(pm[s])) if pm[s] else "-"
        lines.append("| flush of %s entries: state + hash, %d samples "
                     "| %.1f ms | - | - |" % (format(s, ","), len(t),
                                               med(t)))
        lines.append("| of which the hash file (vs. `postmap hash:` of the "
                     "same %s lines) | %.1f ms | %s | %s |" % (
                         format(s, ","), med(d), base, ratio))
    lines += ["", "Ratio: pbsd's hash rewrite time / postmap's (lower is "
              "faster)."]
    return lines


def run_section():
    """The report lines, or a one-line note when pbsd is not built."""
    if not os.access(os.path.join(BUILD, "bin", "pbsd"), os.X_OK):
        return ["## pbsd", "", "not measured: %s/bin/pbsd missing (make "
                "pbsd)" % BUILD]
    work = tempfile.mkdtemp(prefix="pbsd-bench.")
    os.chmod(work, 0o755)
    try:
        return section(run_all(work))
    finally:
        if not os.environ.get("BENCH_KEEP"):
            shutil.rmtree(work, ignore_errors=True)


# -- self-test ---------------------------------------------------------------

def selftest():
    """Functional checks of the measurements on tiny sizes."""
    passed = failed = 0

    def check(name, fn):
        nonlocal passed, failed
        try:
            fn()
            passed += 1
            print("ok   pbsd-bench %s" % name)
        except Exception as e:          # report and go on
            failed += 1
            print("FAIL pbsd-bench %s: %s" % (name, e))

    work = tempfile.mkdtemp(prefix="pbsd-bench-selftest.")
    os.chmod(work, 0o755)
    try:
        def t_ingest():
            r = bench_ingest(os.path.join(work, "i"), 500)
            assert r["events_s"] > 0
        check("ingest counts every event", t_ingest)

        def t_latency():
            lat = bench_latency(os.path.join(work, "l"), 5, background=10)
            assert len(lat) == 5 and all(0 < x < 5000 for x in lat), lat
        check("latency sees each key renamed in", t_latency)

        def t_rewrite():
            t, d = bench_rewrite(os.path.join(work, "w"), 200, 2)
            assert len(t) == 2 and all(x >= y >= 0 for x, y in zip(t, d))
        check("rewrite splits state and hash", t_rewrite)

        def t_pct():
            assert pct([5, 1, 3], 50) == 3 and pct(list(range(101)), 99) == 99
            lines = section(([1.0], [2.0], [2.5], [3.0], [4.0],
                             {s: ([5.0], [4.0]) for s in SIZES},
                             {s: [8.0] for s in SIZES}))
            assert any("0.50x" in l for l in lines), lines
        check("report", t_pct)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return passed, failed


def main(argv):
    if argv[:1] == ["--selftest"]:
        p, f = selftest()
        # Adds the counts of the bench tools' own self-test that ran
        # before (bench.mk passes its last line): one total line.
        prev = os.environ.get("BENCH_SELFTEST_LAST", "")
        words = prev.replace(",", "").split()
        if "passed" in words and "failed" in words:
            p += int(words[words.index("passed") - 1])
            f += int(words[words.index("failed") - 1])
        if os.environ.get("BENCH_SELFTEST_RC", "0") not in ("", "0") and \
                f == 0:
            f = 1
        print("bench-selftest: %d passed, %d failed" % (p, f))
        return 0 if f == 0 else 1
    print("\n".join(run_section()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
