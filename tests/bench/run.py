#!/usr/bin/env python3
# Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
#
# The benchmark runner behind `make bench` (scripts/bench.sh).  Runs as
# the user who runs make (root on the bench machine, so it can raise
# nofile limits and start Dovecot); it trusts the Debian packages and the
# bench tools it built, and talks to loopback only.  It starts every
# server itself with private configs on free loopback ports (fake backend,
# Dovecot, nginx mail, Perdition, both bailey isolation modes), runs the
# workloads interleaved, and stops everything it started by PID (process
# group), also on errors and signals.  Nothing here fails on a figure.

import atexit
import datetime
import os
import platform
import re
import resource
import select
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BUILD = os.environ.get("BAILEY_BUILD", os.path.join(ROOT, "build"))
TOOLS = os.path.join(BUILD, "bench")
QUICK = os.environ.get("QUICK", "") not in ("", "0")
MSG_SIZE = 10 * 1024 * 1024
NUSERS = 1000
PASSWORD = "pass"
NGINX_MAIL_MODULE = "/usr/lib/nginx/modules/ngx_mail_module.so"

# Durations (seconds) per measurement; QUICK runs each once, briefly.
if QUICK:
    ROUNDS, D_LOGIN, D_TLS, D_FETCH, D_LAT = 1, 1, 1, 2, 1
else:
    ROUNDS, D_LOGIN, D_TLS, D_FETCH, D_LAT = 3, 4, 3, 5, 3
LOGIN_CONNS = 64
FETCH_CONNS = 2

PROCS = []          # everything we started, stopped in reverse order


def log(msg):
    print("bench: " + msg, file=sys.stderr, flush=True)


# -- processes -----------------------------------------------------------

class Proc:
    """A server we started in its own session; stopped by process group."""

    def __init__(self, name, argv, workdir, cpus=None, nofile=None,
                 env=None):
        self.name = name
        self.logpath = os.path.join(workdir, name + ".log")
        full = list(argv)
        if cpus is not None:
            full = ["taskset", "-c", cpus] + full

        def pre():
            if nofile is not None:
                resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))

        with open(self.logpath, "ab") as lf:
            self.p = subprocess.Popen(full, stdin=subprocess.DEVNULL,
                                      stdout=lf, stderr=lf,
                                      start_new_session=True,
                                      preexec_fn=pre, env=env)
        self.pid = self.p.pid
        PROCS.append(self)

    def alive(self):
        return self.p.poll() is None

    def stop(self):
        if self.p is None:
            return
        for sig, wait in ((signal.SIGTERM, 5), (signal.SIGKILL, 5)):
            try:
                os.killpg(self.pid, sig)
            except ProcessLookupError:
                break
            try:
                self.p.wait(timeout=wait)
                # Children (perdition's per-connection forks) may linger.
                time.sleep(0.1)
                os.killpg(self.pid, signal.SIGKILL)
            except (subprocess.TimeoutExpired, ProcessLookupError):
                pass
        try:
            self.p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        self.p = None

    def tail(self, n=5):
        try:
            with open(self.logpath, errors="replace") as f:
                return " | ".join(f.read().strip().splitlines()[-n:])
        except OSError:
            return ""


def stop_all():
    while PROCS:
        PROCS.pop().stop()
    for dc in DOVECOTS:
        try:
            dc.stop()
        except Exception:   # best effort at exit
            pass
    DOVECOTS.clear()
    while CLEANUP_DIRS:
        shutil.rmtree(CLEANUP_DIRS.pop(), ignore_errors=True)


DOVECOTS = []
CLEANUP_DIRS = []  # our work directory, removed once everything stopped


def on_signal(signum, frame):
    stop_all()
    sys.exit(128 + signum)


_used_ports = set()


def free_port():
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in _used_ports:
            _used_ports.add(port)
            return port


def wait_greeting(port, expect, timeout=15, proc=None, tls=False):
    """True once the port answers with a line starting with expect."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and not proc.alive():
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), 1) as s:
                if tls:
                    return True
                s.settimeout(2)
                if s.recv(256).startswith(expect):
                    return True
        except OSError:
            pass
        time.sleep(0.1)
    return False


def proc_tree(roots):
    """PIDs of roots and all their descendants."""
    children = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                st = f.read()
        except OSError:
            continue
        ppid = int(st.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(d))
    out, todo = [], list(roots)
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def pss_bytes(roots):
    total = 0
    for pid in proc_tree(roots):
        try:
            with open("/proc/%d/smaps_rollup" % pid) as f:
                for line in f:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1]) * 1024
                        break
        except OSError:
            pass
    return total


def pin_tree(roots, cpus):
    if cpus is None:
        return
    for pid in proc_tree(roots):
        try:
            os.sched_setaffinity(pid, {int(c) for c in cpus.split(",")})
        except OSError:
            pass


def cmd_out(argv):
    try:
        r = subprocess.run(argv, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=10,
                           stdin=subprocess.DEVNULL)
        return r.stdout.decode(errors="replace").strip()
    except (OSError, subprocess.TimeoutExpired):
        return ""


# -- the machine ----------------------------------------------------------

def cpu_plan():
    """(server cpus, load generator cpus, text) for taskset."""
    n = os.cpu_count() or 1
    if n >= 2 and shutil.which("taskset"):
        return ("0", "1", "taskset: servers (backend, proxy, auth_http) on "
                "CPU 0, load generator on CPU 1 (of %d)" % n)
    return (None, None, "not pinned (%d CPU or no taskset)" % n)


def raise_nofile():
    """Raise our limits (inherited by the servers); returns the soft one."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = 131072
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, max(want, hard)))
    except (ValueError, OSError):
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        except (ValueError, OSError):
            pass
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def make_cert(workdir):
    cert = os.path.join(workdir, "cert.pem")
    key = os.path.join(workdir, "key.pem")
    r = subprocess.run(["openssl", "req", "-x509", "-newkey", "ec",
                        "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                        "-days", "2", "-subj", "/CN=localhost",
                        "-keyout", key, "-out", cert],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       stdin=subprocess.DEVNULL)
    if r.returncode != 0:
        return None, None
    os.chmod(key, 0o600)    # read by each server before it drops privileges
    return cert, key


# -- targets ------------------------------------------------------------

class Target:
    def __init__(self, name, kind, backend):
        self.name = name
        self.kind = kind            # direct, nginx, perdition, bailey-*
        self.backend = backend      # fake, dovecot
        self.ports = {}             # imap, pop3, imaps, pop3s
        self.pss_roots = []
        self.why = None             # not available: reason
        self.procs = []
        self.factory = None         # dir -> a fresh instance (idle)

    def port(self, proto, tls):
        return self.ports.get(proto + ("s" if tls else ""))

    def check(self):
        for p in self.procs:
            if not p.alive():
                self.why = "%s exited: %s" % (p.name, p.tail(3))
                return False
        return True


def start_fake(workdir, cpus):
    t = Target("direct-fake", "direct", "fake")
    t.ports = {"imap": free_port(), "pop3": free_port()}
    t.auth_port = free_port()
    p = Proc("fakebackend", [os.path.join(TOOLS, "fakebackend"),
                             "-i", str(t.ports["imap"]),
                             "-p", str(t.ports["pop3"]),
                             "-a", str(t.auth_port), "-s", str(MSG_SIZE),
                             "-t", "7200"], workdir, cpus)
    t.procs = [p]
    t.pss_roots = [p.pid]
    if not wait_greeting(t.ports["imap"], b"* OK", proc=p):
        t.why = "fake backend did not start: " + p.tail()
    return t


def start_dovecot(workdir, cpus, cert, key):
    t = Target("direct-dovecot", "direct", "dovecot")
    if shutil.which("dovecot") is None:
        t.why = "dovecot not installed"
        return t
    sys.dont_write_bytecode = True  # leave no __pycache__ in tests/e2e
    sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
    try:
        import dovecot as e2e_dovecot
    except ImportError as e:
        t.why = "tests/e2e/dovecot.py not usable: %s" % e
        return t
    t.ports = {"imap": free_port(), "pop3": free_port(),
               "imaps": free_port(), "pop3s": free_port()}

    class BenchDovecot(e2e_dovecot.Dovecot):
        """The e2e instance plus TLS listeners and throughput settings
        (later settings and merged sections override the e2e ones)."""

        def _config_text(self):
            extra = "\n# Added by tests/bench/run.py\n"
            extra += ("default_process_limit = 4096\n"
                      "default_client_limit = 40000\n"
                      "auth_cache_size = 10M\n"
                      "auth_cache_ttl = 1 hour\n")
            extra += ("service imap-login {\n  service_count = 0\n"
                      "  process_min_avail = 1\n}\n"
                      "service pop3-login {\n  service_count = 0\n"
                      "  process_min_avail = 1\n}\n"
                      "service imap {\n  service_count = 1000\n"
                      "  process_min_avail = 16\n}\n"
                      "service pop3 {\n  service_count = 1000\n"
                      "  process_min_avail = 16\n}\n")
            if cert:
                extra += ("ssl = yes\nssl_cert = <%s\nssl_key = <%s\n"
                          "service imap-login {\n  inet_listener imaps {\n"
                          "    address = 127.0.0.1\n    port = %d\n"
                          "    ssl = yes\n  }\n}\n"
                          "service pop3-login {\n  inet_listener pop3s {\n"
                          "    address = 127.0.0.1\n    port = %d\n"
                          "    ssl = yes\n  }\n}\n"
                          % (cert, key, t.ports["imaps"], t.ports["pop3s"]))
            return super()._config_text() + extra

    users = {"user%d" % i: PASSWORD for i in range(NUSERS)}
    root = os.path.join(workdir, "dovecot")
    try:
        dc = BenchDovecot(root, t.ports["imap"], t.ports["pop3"],
                          users=users)
        DOVECOTS.append(dc)
        dc.start(timeout=30)
    except Exception as e:  # report, never crash the whole bench
        t.why = "dovecot did not start: %s" % e
        return t
    if not cert:
        del t.ports["imaps"], t.ports["pop3s"]
    t.pss_roots = [dc.proc.pid]
    pin_tree([dc.proc.pid], cpus)
    t.dovecot = dc
    return t


def start_auth_only(workdir, cpus, backend):
    """An auth_http responder pointing nginx at a non-fake backend."""
    port = free_port()
    p = Proc("authhttp-" + backend.name,
             [os.path.join(TOOLS, "fakebackend"), "-a", str(port),
              "-I", str(backend.ports["imap"]),
              "-O", str(backend.ports["pop3"]), "-s", "1024", "-t", "7200"],
             workdir, cpus)
    if not wait_greeting(port, b"", proc=p, tls=True):
        return None, p
    return port, p


def start_nginx(workdir, cpus, backend, cert, key):
    t = Target("nginx-" + backend.backend, "nginx", backend.backend)
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not os.path.exists(nginx) or not os.path.exists(NGINX_MAIL_MODULE):
        t.why = "nginx or libnginx-mod-mail not installed"
        return t
    if backend.why:
        t.why = "backend not available"
        return t
    if backend.backend == "fake":
        auth = backend.auth_port
    else:
        auth, ap = start_auth_only(workdir, cpus, backend)
        t.procs.append(ap)
        if auth is None:
            t.why = "auth_http responder did not start"
            return t
    t.ports = {"imap": free_port(), "pop3": free_port()}
    tls = ""
    if cert:
        t.ports["imaps"] = free_port()
        t.ports["pop3s"] = free_port()
        for proto in ("imap", "pop3"):
            tls += ("  server {\n    listen 127.0.0.1:%d ssl;\n"
                    "    protocol %s;\n  }\n" % (t.ports[proto + "s"], proto))
        tls = ("  ssl_certificate %s;\n  ssl_certificate_key %s;\n"
               "  ssl_session_cache shared:MAILSSL:10m;\n"
               "  ssl_session_tickets on;\n" % (cert, key)) + tls
    d = os.path.join(workdir, t.name)
    os.makedirs(d, exist_ok=True)
    conf = os.path.join(d, "nginx.conf")
    with open(conf, "w") as f:
        f.write("""# Generated by tests/bench/run.py
load_module %s;
daemon off;
master_process on;
worker_processes 1;
worker_rlimit_nofile 65536;
pid %s/nginx.pid;
error_log %s/error.log warn;
events {
  worker_connections 60000;
  multi_accept on;
}
mail {
  auth_http 127.0.0.1:%d/auth;
  pop3_auth plain;
  imap_auth login plain;
  server {
    listen 127.0.0.1:%d;
    protocol imap;
  }
  server {
    listen 127.0.0.1:%d;
    protocol pop3;
  }
%s}
""" % (NGINX_MAIL_MODULE, d, d, auth, t.ports["imap"], t.ports["pop3"], tls))
    p = Proc(t.name, [nginx, "-p", d, "-c", conf, "-e", d + "/error.log"],
             workdir, cpus)
    t.procs.append(p)
    t.pss_roots = [p.pid]
    if not wait_greeting(t.ports["imap"], b"* OK", proc=p):
        t.why = "nginx did not start: " + p.tail()
    return t


def start_perdition(workdir, cpus, backend, cert, key):
    t = Target("perdition-" + backend.backend, "perdition", backend.backend)
    if shutil.which("perdition") is None:
        t.why = "perdition not installed"
        return t
    if backend.why:
        t.why = "backend not available"
        return t
    t.ports = {"imap": free_port(), "pop3": free_port()}
    if cert:
        t.ports["imaps"] = free_port()
        t.ports["pop3s"] = free_port()
    bins = {"imap": "perdition.imap4", "pop3": "perdition.pop3",
            "imaps": "perdition.imaps", "pop3s": "perdition.pop3s"}
    for key_, port in t.ports.items():
        proto = key_.rstrip("s")
        argv = [bins[key_], "--no_daemon", "--bind_address", "127.0.0.1",
                "--listen_port", str(port), "--outgoing_server",
                "127.0.0.1:%d" % backend.ports[proto], "--map_library", "",
                "--no_lookup", "--pid_file",
                os.path.join(workdir, "%s-%s.pid" % (t.name, key_))]
        if key_.endswith("s"):
            argv += ["--ssl_mode", "ssl_listen", "--ssl_cert_file", cert,
                     "--ssl_key_file", key]
        # Perdition closes every fd up to RLIMIT_NOFILE in each child, so
        # it runs with Debian's usual 1024, as its service would.
        p = Proc("%s-%s" % (t.name, key_), argv, workdir, cpus, nofile=1024)
        t.procs.append(p)
        t.pss_roots.append(p.pid)
    if not wait_greeting(t.ports["imap"], b"* OK", proc=t.procs[0]):
        t.why = "perdition did not start: " + t.procs[0].tail()
    return t


def start_bailey(workdir, cpus, backend, isolation, cert=None, key=None):
    t = Target("bailey-%s-%s" % (isolation, backend.backend),
               "bailey-" + isolation, backend.backend)
    exe = os.path.join(BUILD, "bailey")
    if not os.access(exe, os.X_OK):
        t.why = "%s not built" % exe
        return t
    if backend.why:
        t.why = "backend not available"
        return t
    t.ports = {"imap": free_port(), "pop3": free_port()}
    d = os.path.join(workdir, t.name)
    os.makedirs(d, exist_ok=True)
    conf = os.path.join(d, "bailey.conf")
    # One worker in shared mode: the proxy gets one core, like nginx.
    workers = 1 if isolation == "shared" else 64
    text = ("# Generated by tests/bench/run.py\n"
            "workers %d\nisolation %s\n"
            "listen imap on 127.0.0.1 port %d\n"
            "listen pop3 on 127.0.0.1 port %d\n"
            "server imap 127.0.0.1 port %d\n"
            "server pop3 127.0.0.1 port %d\n"
            "max-connections 30000\n"
            "log level warn\nlog stderr yes\n"
            % (workers, isolation, t.ports["imap"], t.ports["pop3"],
               backend.ports["imap"], backend.ports["pop3"]))
    # Implicit-TLS listeners for the TLS workloads.  BENCH_BAILEY_TLS may
    # replace the certificate lines ({cert} and {key} are filled in);
    # set it to "" to leave Bailey's TLS out.
    tls_lines = os.environ.get("BENCH_BAILEY_TLS",
                               'certificate "{cert}" key "{key}"\n')
    if tls_lines and cert:
        t.ports["imaps"] = free_port()
        t.ports["pop3s"] = free_port()
        text += tls_lines.replace("{cert}", cert).replace("{key}", key)
        text += ("\nlisten imap on 127.0.0.1 port %d tls implicit\n"
                 "listen pop3 on 127.0.0.1 port %d tls implicit\n"
                 % (t.ports["imaps"], t.ports["pop3s"]))
    with open(conf, "w") as f:
        f.write(text)
    p = Proc(t.name, [exe, "-d", "-f", conf], workdir, cpus)
    t.procs.append(p)
    t.pss_roots = [p.pid]
    if not wait_greeting(t.ports["imap"], b"* OK", proc=p):
        t.why = "bailey did not start: " + (p.tail() or "no greeting")
    return t


# -- workloads ----------------------------------------------------------

class Workload:
    def __init__(self, name, metric, unit, better, proto="imap",
                 work="login", tls="none", conns=LOGIN_CONNS, secs=None,
                 backends=("fake", "dovecot")):
        self.name = name
        self.metric = metric      # rate, p50, pss, mbps
        self.unit = unit
        self.better = better      # "higher" or "lower"
        self.proto = proto
        self.work = work
        self.tls = tls
        self.conns = conns
        self.secs = secs
        self.backends = backends


def workloads(idle_conns):
    w = [
        Workload("imap-login", "rate", "logins/s", "higher", secs=D_LOGIN),
        Workload("pop3-login", "rate", "logins/s", "higher", proto="pop3",
                 secs=D_LOGIN),
        Workload("imap-login-tls", "rate", "logins/s", "higher", tls="full",
                 secs=D_TLS),
        Workload("imap-login-tls-resume", "rate", "logins/s", "higher",
                 tls="resume", secs=D_TLS),
        Workload("pop3-login-tls", "rate", "logins/s", "higher",
                 proto="pop3", tls="full", secs=D_TLS),
        Workload("pop3-login-tls-resume", "rate", "logins/s", "higher",
                 proto="pop3", tls="resume", secs=D_TLS),
        Workload("idle", "pss", "bytes/conn", "lower", work="idle",
                 conns=idle_conns, backends=("fake",)),
        Workload("fetch", "mbps", "MB/s", "higher", work="fetch",
                 conns=FETCH_CONNS, secs=D_FETCH, backends=("fake",)),
        Workload("imap-login-1conn", "p50", "us p50", "lower", conns=1,
                 secs=D_LAT),
    ]
    return w


def parse_result(text):
    for line in text.splitlines():
        if line.startswith("RESULT "):
            return dict(kv.split("=", 1) for kv in line.split()[1:])
    return None


def loadgen_argv(t, w, port, cpus):
    argv = [os.path.join(TOOLS, "loadgen"), "-p", str(port), "-P", w.proto,
            "-W", w.work, "-t", w.tls, "-c", str(w.conns), "-U",
            str(NUSERS), "-k", PASSWORD, "-S", str(int(time.time()))]
    if w.work == "fetch":
        argv += ["-f", "5", "-o", "60"]
    if w.work == "idle":
        argv += ["-d", "180", "-r", "256", "-o", "60"]
    else:
        argv += ["-d", str(w.secs)]
    if cpus is not None:
        argv = ["taskset", "-c", cpus] + argv
    return argv


def run_idle(t, w, argv):
    """Opens M logged-in connections and returns the PSS growth per
    connection of the proxy's processes."""
    time.sleep(0.5)
    before = pss_bytes(t.pss_roots)
    after = None
    p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    out = b""
    try:
        deadline = time.monotonic() + 150
        while time.monotonic() < deadline and b"READY" not in out:
            r, _, _ = select.select([p.stdout], [], [], 1)
            if not r:
                if p.poll() is not None:
                    break
                continue
            chunk = os.read(p.stdout.fileno(), 4096)
            if not chunk:
                break
            out += chunk
        if b"READY" in out:
            time.sleep(1.0)
            after = pss_bytes(t.pss_roots)
        try:
            rest, e = p.communicate(input=b"release\n", timeout=60)
        except subprocess.TimeoutExpired:
            p.kill()
            rest, e = p.communicate()
        out += rest
        err = e.decode(errors="replace").strip()
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    res = parse_result(out.decode(errors="replace"))
    if after is None or res is None:
        return None, "connections not all held (%s): %s" % (
            res.get("held", "?") if res else "?", err[-200:])
    res["pss"] = (after - before) / w.conns
    res["pss_before"] = before
    res["pss_after"] = after
    return res, err


_fresh = [0]


def run_idle_fresh(t, w, cpus, workdir):
    """idle on a fresh instance of t, so that no heap kept from earlier
    workloads (or rounds) hides the growth."""
    _fresh[0] += 1
    d = os.path.join(workdir, "fresh-%d" % _fresh[0])
    os.makedirs(d, exist_ok=True)
    t2 = t.factory(d)
    try:
        if t2.why:
            return None, "not available: fresh instance: " + t2.why
        time.sleep(0.5)
        return run_idle(t2, w, loadgen_argv(t2, w, t2.port(w.proto, False),
                                            cpus))
    finally:
        for p in t2.procs:
            p.stop()
            if p in PROCS:
                PROCS.remove(p)


def measure(t, w, cpus, workdir):
    """One measurement: (metrics dict or None, note)."""
    tls = w.tls != "none"
    port = t.port(w.proto, tls)
    if port is None:
        return None, "not available: no %s%s listener" % (
            w.proto, " TLS" if tls else "")
    if not t.check():
        return None, "not available: " + t.why
    argv = loadgen_argv(t, w, port, cpus)
    if w.work == "idle":
        if t.factory is not None:
            res, err = run_idle_fresh(t, w, cpus, workdir)
        else:
            res, err = run_idle(t, w, argv)
        if res is None:
            return None, err if err.startswith("not av") else "failed: " + err
    else:
        timeout = (w.secs or 10) + 90
        try:
            r = subprocess.run(argv, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, timeout=timeout,
                               stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            return None, "failed: load generator timed out"
        err = r.stderr.decode(errors="replace").strip()
        res = parse_result(r.stdout.decode(errors="replace"))
        if res is None:
            return None, "failed: " + err[-200:]
    res["p50"] = float(res.get("p50_us", 0))
    for k in ("rate", "mbps", "p50_us", "p99_us", "ok", "err"):
        res[k] = float(res.get(k, 0))
    # A fetch session cut off by the deadline still moved its bytes.
    done = res["mbps"] > 0 if w.work == "fetch" else res["ok"] > 0
    if not done and w.work != "idle":
        return None, "failed: no successful cycle; " + err[-200:]
    return res, err


# -- report ---------------------------------------------------------------

def fmt(v, metric):
    if v is None:
        return "n/a"
    if metric == "pss":
        return "%.0f" % v
    if metric == "mbps":
        return "%.0f" % v
    return "%.0f" % v


def ratio(v, base):
    if v is None or base is None or base == 0:
        return "-"
    return "%.2fx" % (v / base)


def median_or_none(xs):
    return statistics.median(xs) if xs else None


def build_table(results, targets, wls):
    """results[(w.name, t.name)] = list of (res, note)."""
    lines = ["| workload | target | median | unit | p50 ms | p99 ms | "
             "errors | vs direct | vs nginx | vs perdition | note |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    med = {}
    for w in wls:
        for t in targets:
            if t.backend not in w.backends:
                continue
            runs = results.get((w.name, t.name), [])
            vals = [r[w.metric] for r, _ in runs if r is not None]
            med[(w.name, t.name)] = median_or_none(vals)
    for w in wls:
        for t in targets:
            if t.backend not in w.backends:
                continue
            runs = results.get((w.name, t.name), [])
            good = [r for r, _ in runs if r is not None]
            notes = sorted({n for r, n in runs if r is None and n})
            v = med[(w.name, t.name)]
            p50 = median_or_none([r["p50_us"] / 1000 for r in good])
            p99 = median_or_none([r["p99_us"] / 1000 for r in good])
            errs = sum(int(r["err"]) for r in good)
            if w.work == "idle" and good:
                notes.append("proxy PSS %.1f -> %.1f MB" % (
                    median_or_none([r["pss_before"] for r in good]) / 1e6,
                    median_or_none([r["pss_after"] for r in good]) / 1e6))
            if w.tls == "resume" and good:
                hs = sum(int(r.get("handshakes", 0)) for r in good)
                rs = sum(int(r.get("resumed", 0)) for r in good)
                notes.append("%d of %d handshakes resumed" % (rs, hs))
            base = lambda k: med.get((w.name, "%s-%s" % (k, t.backend)))
            showlat = w.metric in ("rate", "p50")
            lines.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s "
                         "| %s |" % (
                             w.name, t.name, fmt(v, w.metric), w.unit,
                             "%.2f" % p50 if showlat and p50 is not None
                             else "-",
                             "%.2f" % p99 if showlat and p99 is not None
                             else "-",
                             errs if good else "-",
                             ratio(v, base("direct")), ratio(v, base("nginx")),
                             ratio(v, base("perdition")),
                             "; ".join(notes + ["%d run(s)" % len(good)]
                                       if good else notes)[:160]))
    return lines, med


def goal_lines(med):
    def get(w, t):
        return med.get((w, t))

    goals = [
        ("shared mode imap-login (fake) >= 2x nginx",
         get("imap-login", "bailey-shared-fake"),
         get("imap-login", "nginx-fake"), 2.0, "ge"),
        ("shared mode imap-login (Dovecot) >= 0.9x direct",
         get("imap-login", "bailey-shared-dovecot"),
         get("imap-login", "direct-dovecot"), 0.9, "ge"),
        ("shared mode fetch >= 0.75x direct",
         get("fetch", "bailey-shared-fake"),
         get("fetch", "direct-fake"), 0.75, "ge"),
        ("shared mode idle bytes/conn <= 0.5x nginx",
         get("idle", "bailey-shared-fake"),
         get("idle", "nginx-fake"), 0.5, "le"),
        ("per-connection imap-login (fake) >= 3x Perdition",
         get("imap-login", "bailey-per-connection-fake"),
         get("imap-login", "perdition-fake"), 3.0, "ge"),
    ]
    out = ["| target | bailey | baseline | ratio | goal |",
           "|---|---|---|---|---|"]
    for name, v, b, k, op in goals:
        if v is None or b is None or b == 0:
            verdict, r = "not measured", "-"
        else:
            r = v / b
            ok = r >= k if op == "ge" else r <= k
            verdict = "met" if ok else "missed"
            r = "%.2fx" % r
        out.append("| %s | %s | %s | %s | %s |" % (
            name, "n/a" if v is None else "%.0f" % v,
            "n/a" if b is None else "%.0f" % b, r, verdict))
    out.append("")
    out.append("Reference figures from the issue (another machine): with "
               "the fake backend nginx ~4,400 IMAP login cycles/s, "
               "Perdition ~1,000, direct ~15,000; nginx idle IMAP "
               "connection ~9.7 KB PSS.")
    return out


def versions():
    v = []
    v.append("kernel: " + platform.release())
    try:
        with open("/proc/cpuinfo") as f:
            m = re.search(r"model name\s*:\s*(.*)", f.read())
            if m:
                v.append("cpu: %s x %d" % (m.group(1), os.cpu_count()))
    except OSError:
        pass
    for pkg in ("nginx", "libnginx-mod-mail", "perdition", "dovecot-core",
                "libssl3"):
        ver = cmd_out(["dpkg-query", "-W", "-f", "${Version}", pkg])
        v.append("%s: %s" % (pkg, ver or "not installed"))
    v.append("cc: " + (cmd_out(["cc", "--version"]).splitlines() or ["?"])[0])
    exe = os.path.join(BUILD, "bailey")
    if os.access(exe, os.X_OK):
        v.append("bailey: " + (cmd_out([exe, "-V"]).splitlines() or ["?"])[0])
    return v


def git_rev():
    r = cmd_out(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"])
    if not r or " " in r:
        return "norev"
    dirty = cmd_out(["git", "-C", ROOT, "status", "--porcelain",
                     "--untracked-files=no"])
    return r + ("-dirty" if dirty else "")


def write_report(lines_table, goals, meta, wls, extra=()):
    d = os.path.join(ROOT, "bench", "results")
    os.makedirs(d, exist_ok=True)
    stamp = datetime.datetime.now().strftime("%Y-%m-%d-%H%M%S")
    path = os.path.join(d, "%s-%s.md" % (stamp, git_rev()))
    body = ["# Bailey benchmark %s" % stamp, ""]
    body += ["- " + m for m in meta]
    body += ["", "## Results", "",
             "Median of the runs per row; ratios are against the baselines "
             "of this run with the same backend (for bytes/conn and "
             "latency, lower is better).", ""]
    body += lines_table
    body += ["", "## Bailey targets (reported, never a failure)", ""]
    body += goals
    body += ["", "## Workloads", ""]
    for w in wls:
        body.append("- %s: %s, %s, TLS %s, %d connection(s)%s" % (
            w.name, w.proto, w.work, w.tls, w.conns,
            ", %d s per run" % w.secs if w.secs else ""))
    if extra:
        body += [""] + list(extra)
    with open(path, "w") as f:
        f.write("\n".join(body) + "\n")
    return path, body


# -- main -----------------------------------------------------------------

def main(argv):
    only = set(argv)  # optional workload names to run
    for tool in ("loadgen", "fakebackend"):
        if not os.access(os.path.join(TOOLS, tool), os.X_OK):
            log("missing %s/%s: run make bench-tools" % (TOOLS, tool))
            return 1
    atexit.register(stop_all)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    t0 = time.monotonic()
    nofile = raise_nofile()
    srv_cpus, lg_cpus, pin_text = cpu_plan()
    # idle: 10,000 where the limits allow (a proxy holds 2 fds a conn).
    idle_conns = 10000 if nofile >= 2 * 10000 + 2048 and not QUICK else 2000
    workdir = tempfile.mkdtemp(prefix="bailey-bench.")
    os.chmod(workdir, 0o755)
    if not os.environ.get("BENCH_KEEP"):
        CLEANUP_DIRS.append(workdir)
    log("work directory %s; %s" % (workdir, pin_text))
    cert, key = make_cert(workdir)
    fake = start_fake(workdir, srv_cpus)
    fake.factory = lambda d: start_fake(d, srv_cpus)
    dove = start_dovecot(workdir, srv_cpus, cert, key)
    targets = [fake, dove]
    for be in (fake, dove):
        t = start_nginx(workdir, srv_cpus, be, cert, key)
        t.factory = lambda d, be=be: start_nginx(d, srv_cpus, be, None, None)
        targets.append(t)
        t = start_perdition(workdir, srv_cpus, be, cert, key)
        t.factory = lambda d, be=be: start_perdition(d, srv_cpus, be, None,
                                                     None)
        targets.append(t)
        for iso in ("shared", "per-connection"):
            t = start_bailey(workdir, srv_cpus, be, iso, cert, key)
            t.factory = lambda d, be=be, iso=iso: start_bailey(d, srv_cpus,
                                                               be, iso)
            targets.append(t)
    for t in targets:
        log("%-32s %s" % (t.name, "ready" if not t.why else
                          "NOT AVAILABLE: " + t.why))
    wls = [w for w in workloads(idle_conns) if not only or w.name in only]
    results = {}
    for rnd in range(ROUNDS):
        for w in wls:
            for t in targets:
                if t.backend not in w.backends:
                    continue
                if t.why:
                    res, note = None, "not available: " + t.why
                else:
                    res, note = measure(t, w, lg_cpus, workdir)
                results.setdefault((w.name, t.name), []).append((res, note))
                log("round %d %-22s %-30s %s" % (
                    rnd + 1, w.name, t.name,
                    "%.1f %s" % (res[w.metric], w.unit) if res else note))
                time.sleep(0.2)
    stop_all()
    # pbsd's own section (tests/bench/pbsd_bench.py): no proxy involved.
    pbsd_lines = []
    if not only or "pbsd" in only:
        sys.path.insert(0, HERE)
        import pbsd_bench
        log("pbsd: ingest, latency and rewrite cost")
        pbsd_lines = pbsd_bench.run_section()
    table, med = build_table(results, targets, wls)
    goals = goal_lines(med)
    meta = ["command: %s" % " ".join(
                ["QUICK=1"] * QUICK + ["scripts/bench.sh"] +
                [shlex.quote(a) for a in argv]),
            "mode: %s, %d interleaved round(s)" % (
                "QUICK" if QUICK else "full", ROUNDS),
            "pinning: " + pin_text,
            "nofile soft limit: %d; idle connections: %d" % (nofile,
                                                             idle_conns),
            "git: " + git_rev(),
            "wall time: %.0f s" % (time.monotonic() - t0)] + versions()
    path, body = write_report(table, goals, meta, wls, pbsd_lines)
    print("\n".join(body))
    log("wrote %s" % os.path.relpath(path, ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
