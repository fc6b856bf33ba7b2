# Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
#
# Helpers for the end-to-end tests: free loopback ports, a bailey process
# with a generated bailey.conf and its stderr log, and a scripted "hostile"
# TCP backend.  Runs in the pytest process on the test machine (normally as
# root, since bailey starts as root and drops privileges itself); trusts
# the build directory named by BAILEY_BUILD and nothing bailey or a backend
# sends.

import os
import re
import signal
import socket
import subprocess
import threading
import time

from dovecot import LIVE, wait_port

HOST = "127.0.0.1"


def build_dir():
    here = os.path.dirname(os.path.abspath(__file__))
    default = os.path.join(here, "..", "..", "build")
    return os.path.abspath(os.environ.get("BAILEY_BUILD", default))


def bailey_binary():
    return os.path.join(build_dir(), "bailey")


_ports_given = set()


def free_port():
    """A loopback TCP port nobody listens on right now (and that this
    process has not handed out before)."""
    for _ in range(100):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind((HOST, 0))
            port = s.getsockname()[1]
        if port not in _ports_given:
            _ports_given.add(port)
            return port
    raise RuntimeError("no free port")


def child_roles(pid):
    """{pid: role} of a bailey parent's children, from /proc (a child
    that has not yet re-executed itself with -R has no role and is left
    out)."""
    out = {}
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % p) as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            if ppid != pid:
                continue
            with open("/proc/%s/cmdline" % p, "rb") as f:
                argv = f.read().split(b"\0")
        except (OSError, ValueError, IndexError):
            continue
        if b"-R" in argv:
            out[int(p)] = argv[argv.index(b"-R") + 1].decode()
    return out


def bailey_conf(imap_port, pop3_port, imap_backend, pop3_backend,
                isolation="shared", workers=2, extra="", map_file=None,
                map_key="\\U", log_level="debug", **opts):
    """The text of a bailey.conf (grammar: docs/bailey.conf.5).
    imap_backend/pop3_backend are (host, port) or None; opts override the
    limits: timeout_login, max_bad_commands, max_auth_attempts,
    auth_failure_delay."""
    lines = [
        "workers %d" % workers,
        "isolation %s" % isolation,
        "timeout login %d" % opts.get("timeout_login", 60),
        "max-bad-commands %d" % opts.get("max_bad_commands", 10),
        "max-auth-attempts %d" % opts.get("max_auth_attempts", 3),
        "auth-failure-delay %d" % opts.get("auth_failure_delay", 200),
        "log level %s" % log_level,
    ]
    if imap_port is not None:
        lines.append("listen imap on %s port %d" % (HOST, imap_port))
    if pop3_port is not None:
        lines.append("listen pop3 on %s port %d" % (HOST, pop3_port))
    if imap_backend is not None:
        lines.append("server imap %s port %d" % imap_backend)
    if pop3_backend is not None:
        lines.append("server pop3 %s port %d" % pop3_backend)
    if map_file is not None:
        lines.append('map regex "%s" key "%s"' % (map_file, map_key))
    text = "\n".join(lines) + "\n"
    if extra:
        text += extra.rstrip("\n") + "\n"
    return text


class Bailey:
    """One bailey in the foreground (-d), logging to a file under `root`.
    Stopped by PID with SIGTERM, then SIGKILL."""

    def __init__(self, root, conf_text, imap_port=None, pop3_port=None):
        self.root = root
        os.makedirs(root, exist_ok=True)
        self.conf = os.path.join(root, "bailey.conf")
        self.logfile = os.path.join(root, "bailey.log")
        self.imap_port = imap_port
        self.pop3_port = pop3_port
        with open(self.conf, "w") as f:
            f.write(conf_text)
        self.proc = None
        self.exit_status = None
        self.killed = False

    def check_config(self):
        """Runs `bailey -n -f CONF`; returns (exit status, output)."""
        r = subprocess.run([bailey_binary(), "-n", "-f", self.conf],
                           stdin=subprocess.DEVNULL, capture_output=True,
                           timeout=30)
        return r.returncode, (r.stdout + r.stderr).decode(errors="replace")

    def start(self, timeout=20):
        binary = bailey_binary()
        if not os.access(binary, os.X_OK):
            raise RuntimeError("%s is missing: build it first (make)"
                               % binary)
        log = open(self.logfile, "ab")
        try:
            self.proc = subprocess.Popen(
                [binary, "-d", "-f", self.conf],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                start_new_session=True)
            LIVE.add(self.proc)
        finally:
            log.close()
        try:
            if self.imap_port is not None:
                wait_port(HOST, self.imap_port, timeout, self.proc, b"* OK")
            if self.pop3_port is not None:
                wait_port(HOST, self.pop3_port, timeout, self.proc, b"+OK")
        except Exception:
            self.stop()
            raise
        return self

    def stop(self, timeout=10):
        """SIGTERM (drain), then SIGKILL to the process group after
        `timeout`.  Returns the exit status; sets self.killed if SIGKILL
        was needed."""
        if self.proc is None:
            return self.exit_status
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.killed = True
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.proc.wait()
        # Children that outlived the parent are ours too.
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.exit_status = self.proc.returncode
        LIVE.discard(self.proc)
        self.proc = None
        return self.exit_status

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def log(self):
        try:
            with open(self.logfile, "rb") as f:
                return f.read().decode("utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def log_bytes(self):
        try:
            with open(self.logfile, "rb") as f:
                return f.read()
        except FileNotFoundError:
            return b""

    def loggrep(self, pattern):
        """Lines of the log matching the regex `pattern`."""
        rx = re.compile(pattern)
        return [ln for ln in self.log().splitlines() if rx.search(ln)]

    def wait_log(self, pattern, timeout=10, count=1):
        """Waits until `count` lines match; returns them or raises."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.loggrep(pattern)
            if len(found) >= count:
                return found
            if time.monotonic() > deadline:
                raise AssertionError(
                    "no %d log line(s) matching %r within %ss; log tail:\n%s"
                    % (count, pattern, timeout,
                       "\n".join(self.log().splitlines()[-40:])))
            time.sleep(0.05)


SESSION_END_RE = (r"session=(?P<session>[0-9a-f]+) "
                  r"client=(?P<client>\S+) user=(?P<user>\S*) "
                  r"backend=(?P<backend>\S+) in=(?P<inb>\d+) "
                  r"out=(?P<outb>\d+) duration=(?P<duration>[0-9.]+) "
                  r"reason=(?P<reason>\w[\w-]*)")


def session_ends(bailey, user=None):
    """Parsed session-end log lines (dicts), optionally for one user."""
    out = []
    for line in bailey.loggrep(SESSION_END_RE):
        m = re.search(SESSION_END_RE, line)
        d = m.groupdict()
        if user is None or d["user"] == user:
            out.append(d)
    return out


class HostileBackend:
    """A scripted TCP server on a loopback port, one thread.  For every
    connection it plays `script`, a list of steps:
      ("send", bytes)          send these bytes
      ("expect", regex-bytes)  read lines until one matches (or EOF)
      ("read", n)              read up to n bytes
      ("sleep", seconds)
      ("close",)               close the connection
      ("hold",)                keep the connection open until stop()
    Everything received is kept per connection in .received."""

    def __init__(self, script, port=None, max_conns=16):
        self.script = list(script)
        self.port = port or free_port()
        self.max_conns = max_conns
        self.received = []
        self.errors = []
        self.connections = 0
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._socks = []
        self._threads = []
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind((HOST, self.port))
        self.listener.listen(16)
        self.listener.settimeout(0.2)
        self._acceptor = threading.Thread(target=self._accept_loop,
                                          daemon=True)

    @property
    def address(self):
        return (HOST, self.port)

    def start(self):
        self._acceptor.start()
        return self

    def _accept_loop(self):
        while not self._stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            with self._lock:
                self.connections += 1
                idx = len(self.received)
                self.received.append(b"")
                self._socks.append(conn)
                over = self.connections > self.max_conns
            if over:
                conn.close()
                continue
            t = threading.Thread(target=self._play, args=(conn, idx),
                                 daemon=True)
            self._threads.append(t)
            t.start()

    def _recv(self, conn, idx, n):
        data = conn.recv(n)
        with self._lock:
            self.received[idx] += data
        return data

    def _play(self, conn, idx):
        conn.settimeout(10)
        pending = b""
        try:
            for step in self.script:
                if self._stop.is_set():
                    break
                op = step[0]
                if op == "send":
                    conn.sendall(step[1])
                elif op == "expect":
                    rx = re.compile(step[1])
                    while True:
                        while b"\n" not in pending:
                            data = self._recv(conn, idx, 65536)
                            if not data:
                                return
                            pending += data
                        line, pending = pending.split(b"\n", 1)
                        if rx.search(line):
                            break
                elif op == "read":
                    self._recv(conn, idx, step[1])
                elif op == "sleep":
                    self._stop.wait(step[1])
                elif op == "close":
                    break
                elif op == "hold":
                    while not self._stop.is_set():
                        try:
                            if not self._recv(conn, idx, 65536):
                                break
                        except socket.timeout:
                            continue
                else:
                    raise ValueError("unknown step %r" % (step,))
        except OSError as e:
            self.errors.append(e)
        finally:
            try:
                conn.close()
            except OSError:
                pass

    def stop(self):
        self._stop.set()
        try:
            self.listener.close()
        except OSError:
            pass
        with self._lock:
            socks = list(self._socks)
        for s in socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._acceptor.join(timeout=5)
        for t in self._threads:
            t.join(timeout=5)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
