# Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
#
# pbsd started by hand in the foreground (-d), its stdin/stdout/stderr a
# pseudo-terminal: it must live through start-up, events, control requests,
# SIGHUP and expiry, and exit 0 on SIGTERM, with its log on the terminal.
# A C library that asks isatty() before writing a log line is simulated
# with a small LD_PRELOAD shim (built here with cc) around dprintf(3): the
# seccomp filter must allow ioctl(TCGETS), and still kill pbsd for any
# other ioctl request (a second shim asks TIOCGWINSZ).  Runs as root;
# stops what it starts.

import os
import shutil
import signal
import subprocess
import time

import pytest

from pbsd_fixtures import EV_LOGIN_OK, Pbsd, binpath, make_tmpdir

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("cc") is None,
    reason="needs root and cc")

SHIM = r"""
#include <stdarg.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

int	__dprintf_chk(int, int, const char *, ...);

static void
shim_probe(int fd)
{
#ifdef WINSZ
	struct winsize	ws;

	(void)ioctl(fd, TIOCGWINSZ, &ws);
#else
	(void)isatty(fd);
#endif
}

int
dprintf(int fd, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	shim_probe(fd);
	va_start(ap, fmt);
	n = vdprintf(fd, fmt, ap);
	va_end(ap);
	return n;
}

/* What a _FORTIFY_SOURCE build calls instead of dprintf(). */
int
__dprintf_chk(int fd, int flag, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	(void)flag;
	shim_probe(fd);
	va_start(ap, fmt);
	n = vdprintf(fd, fmt, ap);
	va_end(ap);
	return n;
}
"""


@pytest.fixture(scope="module")
def shims():
    d = make_tmpdir("pbsd-tty-shim.")
    src = os.path.join(d, "shim.c")
    with open(src, "w") as f:
        f.write(SHIM)
    res = {}
    for name, flags in (("isatty", []), ("winsz", ["-DWINSZ"])):
        out = os.path.join(d, "%s.so" % name)
        subprocess.run(["cc", "-shared", "-fPIC", "-O1"] + flags +
                       ["-o", out, src], check=True, timeout=120)
        res[name] = out
    yield res
    shutil.rmtree(d, ignore_errors=True)


def asan_runtime():
    """A SAN=1 pbsd needs ASan's runtime first in LD_PRELOAD."""
    r = subprocess.run(["ldd", binpath("pbsd")], capture_output=True,
                       text=True, timeout=20)
    return [l.split("=>")[1].split()[0] for l in r.stdout.splitlines()
            if "libasan" in l and "=>" in l]


class TtyPbsd(Pbsd):
    """A Pbsd whose three standard fds are the slave side of a pty."""

    def __init__(self, root, preload=None, **kw):
        super().__init__(root, **kw)
        self.preload = preload
        self.master = None

    def start(self, timeout=10):
        self.master, slave = os.openpty()
        os.set_blocking(self.master, False)
        env = dict(os.environ)
        env.pop("PBSD_DEBUG_SANDBOX", None)
        if self.preload:
            env["LD_PRELOAD"] = " ".join(asan_runtime() + [self.preload])
        self.proc = subprocess.Popen(
            [binpath("pbsd"), "-d", "-f", self.conf],
            stdin=slave, stdout=slave, stderr=slave, env=env,
            start_new_session=True)
        os.close(slave)
        self.out = b""
        deadline = time.time() + timeout
        while time.time() < deadline:
            self.drain()
            if self.proc.poll() is not None:
                return self
            try:
                if self.ctl("stats")[0] == 0:
                    return self
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError("pbsd did not start: %r" % self.out)

    def drain(self):
        while True:
            try:
                chunk = os.read(self.master, 65536)
            except (BlockingIOError, OSError):
                return self.out
            if not chunk:
                return self.out
            self.out += chunk

    def logtext(self):
        return self.drain().decode(errors="replace")

    def close(self):
        super().close()
        if self.master is not None:
            self.drain()
            os.close(self.master)
            self.master = None


@pytest.fixture
def ttyroot():
    d = make_tmpdir("pbsd-tty.")
    yield d
    shutil.rmtree(d, ignore_errors=True)


def lifecycle(p):
    """Events, control, SIGHUP and an expiry; pbsd must stay alive."""
    p.send(EV_LOGIN_OK, "192.0.2.50")
    p.wait_for(lambda: "192.0.2.50" in p.entries(), what="entry")
    assert p.ctl("add", "192.0.2.51", "1")[0] == 0
    p.send_raw(b"garbage")                       # logs a warning
    os.kill(p.proc.pid, signal.SIGHUP)
    time.sleep(2.5)                              # 192.0.2.51 expires
    assert p.proc.poll() is None, p.logtext()
    assert "192.0.2.51" not in p.entries()
    p.wait_for(lambda: "event=expire" in p.logtext(), what="expire log")
    os.kill(p.proc.pid, signal.SIGTERM)
    assert p.proc.wait(10) == 0, p.logtext()
    text = p.logtext()
    for want in ("started:", "event=login-ok client=192.0.2.50",
                 "control: add client=192.0.2.51", "dropped datagram",
                 "event=expire", "exiting"):
        assert want in text, (want, text)


@pytest.mark.parametrize("shim", [None, "isatty"])
def test_pbsd_foreground_on_a_tty(ttyroot, shims, shim):
    p = TtyPbsd(os.path.join(ttyroot, "p"),
                preload=shims[shim] if shim else None)
    try:
        p.start()
        assert p.proc.poll() is None, p.logtext()
        assert os.isatty(p.master)
        lifecycle(p)
    finally:
        p.close()


def test_other_ioctls_stay_forbidden(ttyroot, shims):
    # Only TCGETS was opened: TIOCGWINSZ on the first log line after the
    # filter is loaded kills pbsd with SIGSYS.
    p = TtyPbsd(os.path.join(ttyroot, "p"), preload=shims["winsz"])
    try:
        p.start()
        if p.proc.poll() is None:
            p.send(EV_LOGIN_OK, "192.0.2.52")
        assert p.proc.wait(10) == -signal.SIGSYS, p.logtext()
        assert "started:" not in p.logtext()
    finally:
        p.close()
