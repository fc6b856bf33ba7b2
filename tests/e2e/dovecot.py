# Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
#
# A private Dovecot instance: the real backend for the e2e tests and the
# demo.  Runs on the test machine, normally as root (Dovecot then drops to
# its own dovecot/dovenull users and to bailey-mail for mail access), or as
# an ordinary user (everything runs as that user).  Trusts the Debian
# package and the files it writes itself under the given directory; it
# never reads /etc/dovecot.
#
# Library use: Dovecot(dir, imap_port, pop3_port).start() ... .stop().
# Command line (for scripts/demo.sh):
#   python3 tests/e2e/dovecot.py run DIR IMAPPORT POP3PORT [--demo-mail]
#       [--tls-cert PEM --tls-key PEM [--imaps-port N] [--pop3s-port N]]
# sets up DIR, starts Dovecot, prints "dovecot ready" and runs until
# SIGTERM/SIGINT, then stops it.

import argparse
import atexit
import os
import pwd
import grp
import signal
import socket
import subprocess
import sys
import time

MAIL_USER = "bailey-mail"

# Processes started here (and by bailey_harness) that are still running:
# stopped at interpreter exit if a teardown never ran (e.g. SIGTERM).
LIVE = set()


def stop_leftovers():
    for proc in list(LIVE):
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except OSError:
                    pass
        LIVE.discard(proc)


atexit.register(stop_leftovers)

# user -> password.  Tests may add their own with Dovecot(users=...).
DEFAULT_USERS = {
    "demo": "demo",
    "legacy": "legacy",
}


def demo_messages():
    """A few small messages for the demo user's INBOX (RFC 5322, CRLF)."""
    out = []
    subjects = ["Welcome to Bailey", "Second message", "Third message"]
    for i, subj in enumerate(subjects, 1):
        body = (
            "From: Bailey Demo <postmaster@example.net>\r\n"
            "To: demo@example.net\r\n"
            "Subject: %s\r\n"
            "Date: Mon, 2 Nov 2026 10:0%d:00 +0000\r\n"
            "Message-ID: <demo-%d@example.net>\r\n"
            "MIME-Version: 1.0\r\n"
            "Content-Type: text/plain; charset=us-ascii\r\n"
            "\r\n"
            "This is demo message %d, fetched through the Bailey gateway.\r\n"
            % (subj, i, i, i)
        )
        out.append(body.encode("ascii"))
    return out


def wait_port(host, port, timeout, proc=None, expect=None):
    """Connects until the server answers with a greeting starting with
    `expect` (bytes), or raises TimeoutError."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError("process exited with %d before listening on %d"
                               % (proc.returncode, port))
        try:
            with socket.create_connection((host, port), timeout=2) as s:
                if expect is None:
                    return
                s.settimeout(2)
                greet = s.recv(512)
                if greet.startswith(expect):
                    return
                last = greet
        except OSError as e:
            last = e
        time.sleep(0.05)
    raise TimeoutError("%s:%d not ready after %ss (last: %r)"
                       % (host, port, timeout, last))


def _check_traversable(path):
    """Dovecot's unprivileged processes must reach the directory."""
    p = os.path.abspath(path)
    while True:
        st = os.stat(p)
        if not st.st_mode & 0o001:
            raise RuntimeError(
                "%s is not searchable by other users (mode %o); Dovecot's "
                "unprivileged processes need to reach %s"
                % (p, st.st_mode & 0o7777, path))
        if p == "/":
            return
        p = os.path.dirname(p)


class Dovecot:
    """One private Dovecot.  All state lives under `root`."""

    def __init__(self, root, imap_port, pop3_port, users=None,
                 host="127.0.0.1", tls=None):
        """tls: None for plain only (ssl = no), or a dict with "cert" and
        "key" (PEM paths) and optionally "imaps_port", "pop3s_port": then
        STARTTLS/STLS are offered and the implicit-TLS listeners open on
        the ports given."""
        self.root = os.path.abspath(root)
        self.host = host
        self.imap_port = imap_port
        self.pop3_port = pop3_port
        self.tls = dict(tls) if tls else None
        self.imaps_port = self.tls.get("imaps_port", 0) if self.tls else 0
        self.pop3s_port = self.tls.get("pop3s_port", 0) if self.tls else 0
        self.users = dict(DEFAULT_USERS)
        if users:
            self.users.update(users)
        self.conf = os.path.join(self.root, "dovecot.conf")
        self.log = os.path.join(self.root, "dovecot.log")
        self.mail = os.path.join(self.root, "mail")
        self.proc = None
        self.as_root = os.geteuid() == 0
        if self.as_root:
            pw = pwd.getpwnam(MAIL_USER)
            self.uid, self.gid = pw.pw_uid, pw.pw_gid
        else:
            self.uid, self.gid = os.getuid(), os.getgid()

    # -- files ---------------------------------------------------------
    def maildir(self, user):
        return os.path.join(self.mail, user, "Maildir")

    def _write(self, path, text, mode=0o644, gid=None):
        """Atomically: Dovecot may read the file while we write it."""
        tmp = path + ".tmp"
        with open(tmp, "w") as f:
            f.write(text)
        os.chmod(tmp, mode)
        if gid is not None:
            os.chown(tmp, 0, gid)
        os.rename(tmp, path)

    def _config_text(self):
        if self.as_root:
            runas = ("default_login_user = dovenull\n"
                     "default_internal_user = dovecot\n"
                     "default_internal_group = dovecot\n")
        else:
            me = pwd.getpwuid(os.getuid()).pw_name
            mygroup = grp.getgrgid(os.getgid()).gr_name
            runas = ("default_login_user = %s\n"
                     "default_internal_user = %s\n"
                     "default_internal_group = %s\n"
                     "service imap-login {\n  chroot =\n}\n"
                     "service pop3-login {\n  chroot =\n}\n"
                     % (me, me, mygroup))
        anvil_chroot = "" if self.as_root else "  chroot =\n"
        if self.tls:
            ssl = ("ssl = yes\n"
                   "ssl_cert = <%s\n"
                   "ssl_key = <%s\n"
                   "ssl_min_protocol = TLSv1.2\n"
                   % (self.tls["cert"], self.tls["key"]))
        else:
            ssl = "ssl = no\n"
        r = self.root
        return f"""# Generated by tests/e2e/dovecot.py -- a private test instance.
base_dir = {r}/run
state_dir = {r}/state
instance_name = bailey-test-{self.imap_port}
log_path = {self.log}
info_log_path = {self.log}
debug_log_path = {self.log}
protocols = imap pop3
listen = {self.host}
{ssl}disable_plaintext_auth = no
auth_mechanisms = plain login
auth_verbose = yes
mail_location = maildir:{self.mail}/%u/Maildir
first_valid_uid = {self.uid}
last_valid_uid = 0
first_valid_gid = {self.gid}
mail_uid = {self.uid}
mail_gid = {self.gid}
pop3_uidl_format = %08Xu%08Xv
imap_idle_notify_interval = 2 secs
{runas}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {r}/users
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {r}/users
  default_fields = uid={self.uid} gid={self.gid} home={self.mail}/%u
}}

# Every test connects from 127.0.0.1: one test's failed logins must not
# slow down the next test's (anvil's auth penalty, per client IP).
service anvil {{
{anvil_chroot}  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}

service imap-login {{
  inet_listener imap {{
    address = {self.host}
    port = {self.imap_port}
  }}
  inet_listener imaps {{
    address = {self.host}
    port = {self.imaps_port}
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    address = {self.host}
    port = {self.pop3_port}
  }}
  inet_listener pop3s {{
    address = {self.host}
    port = {self.pop3s_port}
  }}
}}
"""

    def setup(self):
        """Writes the config, the users file and empty maildirs."""
        os.makedirs(self.root, exist_ok=True)
        os.chmod(self.root, 0o755)
        if self.as_root:
            _check_traversable(self.root)
        for d in ("run", "state", "mail"):
            os.makedirs(os.path.join(self.root, d), exist_ok=True)
        os.chmod(os.path.join(self.root, "mail"), 0o755)
        self._write_users()
        self._write(self.conf, self._config_text())
        for user in self.users:
            self._make_maildir(user)

    def _write_users(self):
        lines = []
        for user, pw in sorted(self.users.items()):
            lines.append("%s:{PLAIN}%s:%d:%d::%s/%s::\n"
                         % (user, pw, self.uid, self.gid, self.mail, user))
        # Only the auth process (user dovecot, or us) may read it.
        users = os.path.join(self.root, "users")
        if self.as_root:
            self._write(users, "".join(lines), 0o640,
                        grp.getgrnam("dovecot").gr_gid)
        else:
            self._write(users, "".join(lines), 0o600)

    def add_user(self, user, password):
        """Adds a user while Dovecot runs and gives it an empty maildir.
        Caveat: Dovecot looks at a changed passwd-file at most once a
        second, so a login in the same second may not know the user yet:
        tests take pre-made users (conftest's mailbox fixture) instead."""
        self.users[user] = password
        self._write_users()
        self._make_maildir(user)

    def _chown(self, path):
        if self.as_root:
            os.chown(path, self.uid, self.gid)

    def _make_maildir(self, user):
        home = os.path.join(self.mail, user)
        for d in (home, self.maildir(user)):
            os.makedirs(d, exist_ok=True)
            self._chown(d)
        for sub in ("cur", "new", "tmp"):
            p = os.path.join(self.maildir(user), sub)
            os.makedirs(p, exist_ok=True)
            self._chown(p)

    _seq = 0

    def deliver(self, user, data):
        """Drops one message (bytes) into user's INBOX the maildir way:
        write to tmp/, then rename into new/.  Returns the file name."""
        Dovecot._seq += 1
        # Dovecot orders new mail by the seconds, then the M part.
        name = "%d.M%06dP%d.bailey-test" % (
            int(time.time()), Dovecot._seq, os.getpid())
        tmp = os.path.join(self.maildir(user), "tmp", name)
        with open(tmp, "wb") as f:
            f.write(data)
        self._chown(tmp)
        os.chmod(tmp, 0o600)
        new = os.path.join(self.maildir(user), "new", name)
        os.rename(tmp, new)
        return name

    def message_count(self, user):
        n = 0
        for sub in ("cur", "new"):
            n += len(os.listdir(os.path.join(self.maildir(user), sub)))
        return n

    # -- process -------------------------------------------------------
    def start(self, timeout=20):
        self.setup()
        logf = open(os.path.join(self.root, "dovecot.stderr"), "ab")
        try:
            self.proc = subprocess.Popen(
                ["dovecot", "-F", "-c", self.conf],
                stdin=subprocess.DEVNULL, stdout=logf, stderr=logf,
                start_new_session=True)
            LIVE.add(self.proc)
        finally:
            logf.close()
        try:
            wait_port(self.host, self.imap_port, timeout, self.proc,
                      b"* OK")
            wait_port(self.host, self.pop3_port, timeout, self.proc,
                      b"+OK")
            for port in (self.imaps_port, self.pop3s_port):
                if port:
                    wait_port(self.host, port, timeout, self.proc)
        except Exception:
            self.stop()
            raise
        return self

    def stop(self, timeout=10):
        """Stops our Dovecot (and only ours): doveadm stop on our config,
        then SIGTERM/SIGKILL to the master by PID."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            try:
                subprocess.run(["doveadm", "-c", self.conf, "stop"],
                               stdin=subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, timeout=timeout)
            except (OSError, subprocess.TimeoutExpired):
                pass
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        LIVE.discard(self.proc)
        self.proc = None

    def log_text(self):
        try:
            with open(self.log, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


class TrustingDovecot(Dovecot):
    """A Dovecot that trusts 127.0.0.1 (login_trusted_networks), so it
    takes the client address a proxy forwards (ID, XCLIENT, PROXY)."""

    def _config_text(self):
        return (super()._config_text() +
                "\nlogin_trusted_networks = 127.0.0.1/32\n")


def _main(argv):
    ap = argparse.ArgumentParser(prog="dovecot.py")
    sub = ap.add_subparsers(dest="cmd", required=True)
    run = sub.add_parser("run", help="set up, start, wait for SIGTERM")
    run.add_argument("dir")
    run.add_argument("imap_port", type=int)
    run.add_argument("pop3_port", type=int)
    run.add_argument("--demo-mail", action="store_true",
                     help="give user demo a few messages (once)")
    run.add_argument("--tls-cert", help="PEM certificate: enables TLS")
    run.add_argument("--tls-key", help="PEM private key")
    run.add_argument("--imaps-port", type=int, default=0)
    run.add_argument("--pop3s-port", type=int, default=0)
    args = ap.parse_args(argv)
    tls = None
    if args.tls_cert or args.tls_key:
        if not (args.tls_cert and args.tls_key):
            ap.error("--tls-cert and --tls-key go together")
        tls = {"cert": os.path.abspath(args.tls_cert),
               "key": os.path.abspath(args.tls_key),
               "imaps_port": args.imaps_port, "pop3s_port": args.pop3s_port}

    stopping = []

    def on_signal(signum, frame):
        stopping.append(signum)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    dc = Dovecot(args.dir, args.imap_port, args.pop3_port, tls=tls)
    dc.setup()
    if args.demo_mail and dc.message_count("demo") == 0:
        for m in demo_messages():
            dc.deliver("demo", m)
    dc.start()
    print("dovecot ready: imap %s:%d pop3 %s:%d log %s"
          % (dc.host, dc.imap_port, dc.host, dc.pop3_port, dc.log),
          flush=True)
    try:
        while not stopping and dc.proc.poll() is None:
            time.sleep(0.2)
    finally:
        died = dc.proc.poll() if dc.proc else None
        dc.stop()
    if died is not None and not stopping:
        print("dovecot exited with %d; see %s" % (died, dc.log),
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
