# Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
#
# Bad input from clients: each case gets a clean protocol error or a clean
# close, and afterwards the same bailey still serves a normal login.  Both
# isolation modes (the `bailey` fixture is parametrised).

import socket
import time

import pytest

from rawclient import Raw, imap_login_works, pop3_login_works


def still_serves(bailey, mb):
    assert bailey.alive()
    assert imap_login_works(bailey.imap_port, mb.user, mb.password)
    assert pop3_login_works(bailey.pop3_port, mb.user, mb.password)


def test_imap_1mb_line_without_crlf(bailey, filled_mailbox):
    r = Raw(bailey.imap_port)
    try:
        r.send(b"a" * (1 << 20))
    except (BrokenPipeError, ConnectionResetError):
        pass
    lines = []
    try:
        lines = r.until(rb"^\* BYE")
    except (EOFError, ConnectionResetError):
        pass
    assert any(b"too long" in ln for ln in lines) or lines == []
    assert r.closed()
    still_serves(bailey, filled_mailbox)


def test_pop3_1mb_line_without_crlf(bailey, filled_mailbox):
    r = Raw(bailey.pop3_port)
    try:
        r.send(b"a" * (1 << 20))
    except (BrokenPipeError, ConnectionResetError):
        pass
    try:
        assert r.line().startswith(b"-ERR")
    except (EOFError, ConnectionResetError):
        pass
    assert r.closed()
    still_serves(bailey, filled_mailbox)


@pytest.mark.parametrize("size", [b"4294967296", b"99999999999999999999",
                                  b"18446744073709551616", b"2147483648"])
def test_imap_huge_literal_refused_before_continuation(bailey,
                                                       filled_mailbox, size):
    r = Raw(bailey.imap_port)
    r.send(b"a LOGIN {" + size + b"}\r\n")
    ln = r.line()
    assert ln.startswith(b"a BAD"), ln      # never "+ Ready"
    assert r.cmd(b"b NOOP\r\n", rb"^b ")[-1].startswith(b"b OK")
    r.close()
    still_serves(bailey, filled_mailbox)


def test_imap_nul_bytes(bailey, filled_mailbox):
    r = Raw(bailey.imap_port)
    for bad in (b"a\x00 NOOP\r\n", b"a NOOP\x00\r\n", b"a LOGIN \x00 x\r\n"):
        assert b" BAD " in r.cmd(bad, rb" BAD ")[-1]
    assert r.cmd(b"z NOOP\r\n", rb"^z ")[-1].startswith(b"z OK")
    r.close()
    still_serves(bailey, filled_mailbox)


def test_imap_bare_lf_accepted(bailey, filled_mailbox):
    r = Raw(bailey.imap_port)
    assert r.cmd(b"a NOOP\n", rb"^a ")[-1].startswith(b"a OK")
    out = r.cmd(b"b LOGIN %s %s\n" % (filled_mailbox.user.encode(),
                                      filled_mailbox.password.encode()),
                rb"^b ")
    assert out[-1].startswith(b"b OK")
    r.close()


def test_pop3_nul_and_bare_lf(bailey, filled_mailbox):
    r = Raw(bailey.pop3_port)
    assert r.cmd(b"NOOP\n", rb"^[+-]")[-1].startswith(b"+OK")
    assert r.cmd(b"US\x00ER x\r\n", rb"^[+-]")[-1].startswith(b"-ERR")
    assert r.cmd(b"USER a\x00b\r\n", rb"^[+-]")[-1].startswith(b"-ERR")
    r.close()
    still_serves(bailey, filled_mailbox)


def test_imap_unknown_commands_until_limit(bailey_factory, filled_mailbox):
    b = bailey_factory(max_bad_commands=5)
    r = Raw(b.imap_port)
    for i in range(4):                      # below the limit: still open
        out = r.cmd(b"t%d FROB\r\n" % i, rb"^t%d " % i)
        assert out[-1].startswith(b"t%d BAD" % i)
    r.send(b"t4 FROB\r\n")                  # the 5th reaches the limit
    out = r.until(rb"^\* BYE")
    assert out[0].startswith(b"t4 BAD")
    assert r.closed()
    assert b.loggrep(r"reason=too-many-bad-commands")
    still_serves(b, filled_mailbox)


def test_pop3_unknown_commands_until_limit(bailey_factory, filled_mailbox):
    b = bailey_factory(max_bad_commands=3)
    r = Raw(b.pop3_port)
    for i in range(2):
        assert r.cmd(b"FROB\r\n", rb"^[+-]")[-1].startswith(b"-ERR")
    r.send(b"FROB\r\n")
    assert r.line().startswith(b"-ERR")
    assert r.line().startswith(b"-ERR Too many")
    assert r.closed()
    still_serves(b, filled_mailbox)


def test_100_idle_connections_while_login_works(bailey, filled_mailbox):
    idle = [Raw(bailey.imap_port) for _ in range(50)]
    idle += [Raw(bailey.pop3_port) for _ in range(50)]
    try:
        assert all(r.greeting for r in idle)
        still_serves(bailey, filled_mailbox)
    finally:
        for r in idle:
            r.close()


def test_backend_down(bailey_factory, filled_mailbox):
    dead = socket.socket()
    dead.bind(("127.0.0.1", 0))
    port = dead.getsockname()[1]
    dead.close()                            # nothing listens there now
    b = bailey_factory(imap_backend=("127.0.0.1", port),
                       pop3_backend=("127.0.0.1", port))
    r = Raw(b.imap_port)
    out = r.cmd(b"a LOGIN x y\r\n", rb"^a ")
    assert out[-1].startswith(b"a NO [UNAVAILABLE]")
    assert r.cmd(b"b NOOP\r\n", rb"^b ")[-1].startswith(b"b OK")
    r.close()
    r = Raw(b.pop3_port)
    r.cmd(b"USER x\r\n", rb"^\+OK")
    assert r.cmd(b"PASS y\r\n", rb"^[+-]")[-1].startswith(b"-ERR [SYS/TEMP]")
    r.close()
    assert b.alive()


def test_backend_failover_to_next_default(bailey_factory, dovecot,
                                          filled_mailbox):
    dead = socket.socket()
    dead.bind(("127.0.0.1", 0))
    port = dead.getsockname()[1]
    dead.close()
    extra = ("server imap 127.0.0.1 port %d\nserver pop3 127.0.0.1 port %d\n"
             % (dovecot.imap_port, dovecot.pop3_port))
    b = bailey_factory(imap_backend=("127.0.0.1", port),
                       pop3_backend=("127.0.0.1", port), extra=extra)
    # Round robin starts at a different server each time; every login must
    # work because a dead server is skipped.
    for _ in range(4):
        assert imap_login_works(b.imap_port, filled_mailbox.user,
                                filled_mailbox.password)
        assert pop3_login_works(b.pop3_port, filled_mailbox.user,
                                filled_mailbox.password)


def test_no_map_entry_and_no_default_server(bailey_factory, filled_mailbox):
    b = bailey_factory(imap_backend=None, pop3_backend=None)
    r = Raw(b.imap_port)
    out = r.cmd(b"a LOGIN %s %s\r\n" % (filled_mailbox.user.encode(),
                                        filled_mailbox.password.encode()),
                rb"^a ")
    assert out[-1].startswith(b"a NO [UNAVAILABLE]")
    assert r.cmd(b"b LOGOUT\r\n", rb"^b ")[-1].startswith(b"b OK")
    assert b.wait_log(r"event=no-backend")
    assert b.alive()


def test_wrong_password_then_retry_same_connection(bailey, filled_mailbox):
    mb = filled_mailbox
    r = Raw(bailey.imap_port)
    out = r.cmd(b"a LOGIN %s wrong\r\n" % mb.user.encode(), rb"^a ")
    assert out[-1].startswith(b"a NO [AUTHENTICATIONFAILED]")
    out = r.cmd(b"b LOGIN %s %s\r\n" % (mb.user.encode(),
                                        mb.password.encode()), rb"^b ")
    assert out[-1].startswith(b"b OK")
    out = r.cmd(b"c SELECT INBOX\r\n", rb"^c ")
    assert out[-1].startswith(b"c OK")
    assert any(b"3 EXISTS" in ln for ln in out)
    r.close()


def test_pipelined_login_and_commands(bailey, filled_mailbox):
    mb = filled_mailbox
    r = Raw(bailey.imap_port)
    r.send(b"a LOGIN %s %s\r\nb SELECT INBOX\r\nc FETCH 1 (FLAGS)\r\n"
           b"d LOGOUT\r\n" % (mb.user.encode(), mb.password.encode()))
    out = r.until(rb"^d ")
    tags = [ln.split(b" ")[0] for ln in out if not ln.startswith(b"*")]
    assert tags == [b"a", b"b", b"c", b"d"]
    assert r.closed()


def test_row17_client_gone_at_every_state(bailey, filled_mailbox):
    mb = filled_mailbox
    port = bailey.imap_port
    states = [
        b"a LOGIN {5}\r\n",                         # literal continuation
        b"a AUTHENTICATE PLAIN\r\n",                # SASL continuation
        b"a AUTHENTICATE LOGIN\r\n",
        b"a LOGIN %s %s\r\n" % (mb.user.encode(), mb.password.encode()),
        b"a LOGIN %s wrong\r\n" % mb.user.encode(),  # during the delay
        b"a LOG",                                   # half a command
    ]
    for data in states:                             # threat row 17
        for _ in range(3):
            r = Raw(port)
            r.send(data)
            r.close()
    time.sleep(0.5)
    still_serves(bailey, mb)
