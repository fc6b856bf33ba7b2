# Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
#
# pytest fixtures for the end-to-end suite: one private Dovecot for the
# whole run, a fresh mailbox (user, password, messages) per test, and
# bailey processes with generated configs on free loopback ports, run in
# both isolation modes.  Runs in the pytest process, normally as root;
# trusts the build under BAILEY_BUILD and the Debian packages.  Everything
# started here is stopped by PID at teardown, also when a test fails; a
# failed test's report carries the bailey log.
#
# Run with scripts/run-e2e.sh (or `make e2e`).  BAILEY_E2E_KEEP=1 keeps the
# state directory under /tmp for a look afterwards.

import atexit
import os
import pathlib
import secrets
import shutil
import signal
import sys
import tempfile

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bailey_harness import (  # noqa: E402
    HOST, Bailey, HostileBackend, bailey_conf, free_port)
from dovecot import Dovecot, stop_leftovers  # noqa: E402

ISOLATION_MODES = ["shared", "per-connection"]


def _sigterm(signum, frame):
    # timeout(1) ends a hung run with SIGTERM: turn it into an interrupt
    # so fixtures tear down and nothing we started is left running.
    raise KeyboardInterrupt("SIGTERM")


def pytest_configure(config):
    signal.signal(signal.SIGTERM, _sigterm)


_STATE_ROOTS = []


def _final_cleanup():
    # Runs even when an interrupt skipped the fixtures' teardown.
    stop_leftovers()
    if not os.environ.get("BAILEY_E2E_KEEP"):
        for root in _STATE_ROOTS:
            shutil.rmtree(root, ignore_errors=True)


atexit.register(_final_cleanup)


@pytest.fixture(scope="session")
def state_root():
    # Not under pytest's tmp_path: /tmp/pytest-of-root is 0700 and
    # Dovecot's unprivileged processes must reach their sockets and mail.
    root = tempfile.mkdtemp(prefix="bailey-e2e.", dir="/tmp")
    os.chmod(root, 0o755)
    _STATE_ROOTS.append(root)
    yield root
    if not os.environ.get("BAILEY_E2E_KEEP"):
        shutil.rmtree(root, ignore_errors=True)
    else:
        print("\ne2e state kept in %s" % root)


@pytest.fixture
def tmp_path(state_root):
    """Overrides pytest's: its directories are 0700 under
    /tmp/pytest-of-root, where bailey's sandboxed roles (user _bailey)
    cannot read a map file.  This one is 0755 inside the state root."""
    d = tempfile.mkdtemp(prefix="tmp.", dir=state_root)
    os.chmod(d, 0o755)
    return pathlib.Path(d)


# Users made before Dovecot starts, one per test that asks for a mailbox:
# Dovecot re-reads a changed passwd-file at most once a second, so users
# added on the fly are not reliably known at once.
POOL_SIZE = int(os.environ.get("BAILEY_E2E_USERS", "1000"))


@pytest.fixture(scope="session")
def dovecot(state_root):
    # A password that is easy to spot in a log, and its own for each user.
    pool = {"t%04d%s" % (i, secrets.token_hex(3)):
            "Pw-" + secrets.token_hex(8) for i in range(POOL_SIZE)}
    dc = Dovecot(os.path.join(state_root, "dovecot"), free_port(),
                 free_port(), users=pool)
    dc.user_pool = sorted(pool.items())
    dc.start()
    yield dc
    dc.stop()


class Mailbox:
    """A Dovecot user of its own for one test."""

    def __init__(self, dovecot, user, password):
        self.dovecot = dovecot
        self.user = user
        self.password = password
        self.delivered = []

    def deliver(self, data):
        self.dovecot.deliver(self.user, data)
        self.delivered.append(data)
        return data


def make_message(n, subject=None, body_lines=3):
    """A small RFC 5322 message with CRLF line ends, including lines that
    need POP3 dot-stuffing."""
    subject = subject or "test message %d" % n
    lines = [
        "From: Sender <sender@example.net>",
        "To: rcpt@example.net",
        "Subject: %s" % subject,
        "Message-ID: <e2e-%d-%s@example.net>" % (n, secrets.token_hex(4)),
        "",
    ]
    for i in range(body_lines):
        lines.append("line %d of message %d" % (i, n))
    lines += [".", "..two dots", ".leading dot", "end"]
    return ("\r\n".join(lines) + "\r\n").encode("ascii")


@pytest.fixture
def mailbox(dovecot):
    """A user of its own, with an empty INBOX."""
    if not dovecot.user_pool:
        pytest.fail("out of pre-made users: raise BAILEY_E2E_USERS")
    user, password = dovecot.user_pool.pop(0)
    return Mailbox(dovecot, user, password)


@pytest.fixture
def filled_mailbox(mailbox):
    for n in (1, 2, 3):
        mailbox.deliver(make_message(n))
    return mailbox


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.when != "call" or not rep.failed:
        return
    for i, b in enumerate(getattr(item, "_baileys", [])):
        tail = "\n".join(b.log().splitlines()[-80:])
        rep.sections.append(("bailey %d log (%s)" % (i, b.logfile), tail))


@pytest.fixture
def bailey_factory(request, dovecot, state_root):
    """make(isolation=..., imap_backend=..., pop3_backend=..., start=True,
    **bailey_conf options) -> a started Bailey.  Backends default to the
    session's Dovecot; pass None to leave a protocol out."""
    started = []
    request.node._baileys = started
    default = object()

    def make(isolation="shared", imap_backend=default, pop3_backend=default,
             start=True, **kw):
        if imap_backend is default:
            imap_backend = (HOST, dovecot.imap_port)
        if pop3_backend is default:
            pop3_backend = (HOST, dovecot.pop3_port)
        imap_port = kw.pop("imap_port", free_port())
        pop3_port = kw.pop("pop3_port", free_port())
        root = tempfile.mkdtemp(prefix="bailey.", dir=state_root)
        os.chmod(root, 0o755)
        text = bailey_conf(imap_port, pop3_port, imap_backend, pop3_backend,
                           isolation=isolation, **kw)
        b = Bailey(root, text, imap_port=imap_port, pop3_port=pop3_port)
        started.append(b)
        if start:
            b.start()
        return b

    yield make
    for b in started:
        b.stop()


@pytest.fixture(params=ISOLATION_MODES)
def isolation(request):
    return request.param


@pytest.fixture
def bailey(bailey_factory, isolation):
    """A running bailey in front of the session's Dovecot, once per
    isolation mode."""
    return bailey_factory(isolation=isolation)


@pytest.fixture
def hostile_backend():
    """make(script) -> a started HostileBackend, stopped at teardown."""
    made = []

    def make(script, **kw):
        hb = HostileBackend(script, **kw).start()
        made.append(hb)
        return hb

    yield make
    for hb in made:
        hb.stop()
