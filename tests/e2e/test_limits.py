# Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
#
# Every pre-login limit at the limit and one past it (lib/limits.h and
# bailey.conf), through a running bailey; after each, a normal login works.

import time

from rawclient import Raw, b64, imap_login_works, pop3_login_works

IMAP_MAX_LINE = 8192
IMAP_MAX_LITERAL = 4096
POP3_MAX_CMD = 255


def test_imap_line_at_and_past_limit(bailey_factory, filled_mailbox):
    b = bailey_factory()
    head = b"a FROB "
    # At the limit: 8192 bytes including CRLF -> an ordinary BAD.
    at = head + b"x" * (IMAP_MAX_LINE - len(head) - 2) + b"\r\n"
    assert len(at) == IMAP_MAX_LINE
    r = Raw(b.imap_port)
    out = r.cmd(at, rb"^a ")
    assert out[-1].startswith(b"a BAD Command not permitted")
    assert r.cmd(b"b NOOP\r\n", rb"^b ")[-1].startswith(b"b OK")
    r.close()
    # One past: the line is refused and the connection closed.
    past = head + b"x" * (IMAP_MAX_LINE - len(head) - 1) + b"\r\n"
    r = Raw(b.imap_port)
    r.send(past)
    out = r.until(rb"^\* BYE")
    assert b"too long" in out[-1]
    assert r.closed()
    assert imap_login_works(b.imap_port, filled_mailbox.user,
                            filled_mailbox.password)


def test_imap_literal_at_and_past_limit(bailey_factory, filled_mailbox):
    b = bailey_factory()
    r = Raw(b.imap_port)
    r.send(b"a LOGIN {%d}\r\n" % IMAP_MAX_LITERAL)
    assert r.line().startswith(b"+ ")
    r.send(b"u" * IMAP_MAX_LITERAL + b" p\r\n")
    # A 4096-byte user name passes the parser, then the credential limit.
    assert r.line().startswith(b"a BAD")
    r.send(b"b LOGIN {%d}\r\n" % (IMAP_MAX_LITERAL + 1))
    assert r.line().startswith(b"b BAD")         # no continuation
    assert r.cmd(b"c NOOP\r\n", rb"^c ")[-1].startswith(b"c OK")
    # Non-synchronising literal past the limit: cannot resync -> close.
    r.send(b"d LOGIN {%d+}\r\n" % (IMAP_MAX_LITERAL + 1))
    r.until(rb"^\* BYE")
    assert r.closed()
    assert imap_login_works(b.imap_port, filled_mailbox.user,
                            filled_mailbox.password)


def test_imap_literal_minus_within_limit(bailey, filled_mailbox):
    mb = filled_mailbox
    r = Raw(bailey.imap_port)
    u, p = mb.user.encode(), mb.password.encode()
    r.send(b"a LOGIN {%d+}\r\n%s {%d+}\r\n%s\r\n" % (len(u), u, len(p), p))
    assert r.until(rb"^a ")[-1].startswith(b"a OK")
    r.close()


def test_id_pairs_at_and_past_limit(bailey):
    r = Raw(bailey.imap_port)
    pairs = b" ".join(b'"k%d" "v"' % i for i in range(30))
    assert r.cmd(b"a ID (" + pairs + b")\r\n", rb"^a ")[-1].startswith(
        b"a OK")
    pairs = b" ".join(b'"k%d" "v"' % i for i in range(31))
    assert r.cmd(b"b ID (" + pairs + b")\r\n", rb"^b ")[-1].startswith(
        b"b BAD")
    big = b'"k" "' + b"v" * 1024 + b'"'
    assert r.cmd(b"c ID (" + big + b")\r\n", rb"^c ")[-1].startswith(b"c OK")
    big = b'"k" "' + b"v" * 1025 + b'"'
    assert r.cmd(b"d ID (" + big + b")\r\n", rb"^d ")[-1].startswith(
        b"d BAD")
    r.close()


def test_pop3_line_at_and_past_limit(bailey_factory, filled_mailbox):
    b = bailey_factory()
    r = Raw(b.pop3_port)
    at = b"USER " + b"u" * (POP3_MAX_CMD - 5 - 2) + b"\r\n"
    assert len(at) == POP3_MAX_CMD
    # 255 bytes with CRLF: a 248-character user name is taken.
    assert r.cmd(at, rb"^[+-]")[-1].startswith(b"+OK")
    r.send(b"USER " + b"u" * (POP3_MAX_CMD - 5 - 1) + b"\r\n")
    assert r.line().startswith(b"-ERR Line too long")
    assert r.closed()
    assert pop3_login_works(b.pop3_port, filled_mailbox.user,
                            filled_mailbox.password)


def test_user_and_password_length_limits(bailey_factory, hostile_backend):
    hb = hostile_backend([("send", b"* OK hi\r\n"),
                          ("expect", rb"^B1 LOGIN"),
                          ("send", b"B1 NO no\r\n"), ("hold",)])
    b = bailey_factory(imap_backend=hb.address, auth_failure_delay=0,
                       max_auth_attempts=10)
    r = Raw(b.imap_port)
    user = b"u" * 255                               # MAX_USER: accepted
    out = r.cmd(b"a LOGIN " + user + b" p\r\n", rb"^a ")
    assert out[-1].startswith(b"a NO [AUTHENTICATIONFAILED]")
    assert b"B1 LOGIN \"" + user + b"\"" in hb.received[0]
    out = r.cmd(b"b LOGIN " + user + b"u p\r\n", rb"^b ")
    assert out[-1].startswith(b"b BAD")               # 256: refused
    pw = b"p" * 1024                                # MAX_PASS: accepted
    out = r.cmd(b"c LOGIN u {1024}\r\n", rb"^\+ ")
    out = r.cmd(pw + b"\r\n", rb"^c ")
    assert out[-1].startswith(b"c NO [AUTHENTICATIONFAILED]")
    out = r.cmd(b"d LOGIN u {1025}\r\n", rb"^\+ ")
    out = r.cmd(pw + b"p\r\n", rb"^d ")
    assert out[-1].startswith(b"d BAD")
    assert hb.connections == 2                      # refused before dialing
    r.close()


def test_auth_attempts_at_limit(bailey_factory, filled_mailbox):
    b = bailey_factory(max_auth_attempts=3, auth_failure_delay=0)
    r = Raw(b.imap_port)
    u = filled_mailbox.user.encode()
    for t in (b"a", b"b"):
        out = r.cmd(t + b" LOGIN " + u + b" wrong\r\n", rb"^" + t + b" ")
        assert out[-1].startswith(t + b" NO")
    r.send(b"c LOGIN " + u + b" wrong\r\n")
    out = r.until(rb"^\* BYE")
    assert out[0].startswith(b"c NO")
    assert r.closed()
    assert b.loggrep(r"reason=too-many-auth-failures")
    assert imap_login_works(b.imap_port, filled_mailbox.user,
                            filled_mailbox.password)


def test_auth_failure_delay(bailey_factory, filled_mailbox):
    b = bailey_factory(auth_failure_delay=700)
    r = Raw(b.pop3_port)
    r.cmd(b"USER %s\r\n" % filled_mailbox.user.encode(), rb"^\+OK")
    t = time.monotonic()
    assert r.cmd(b"PASS wrong\r\n", rb"^[+-]")[-1].startswith(b"-ERR [AUTH]")
    assert time.monotonic() - t >= 0.7
    r.close()


def test_login_timeout(bailey_factory, filled_mailbox):
    b = bailey_factory(timeout_login=2)
    late = Raw(b.imap_port)
    early = Raw(b.imap_port)
    time.sleep(1)
    mb = filled_mailbox
    out = early.cmd(b"a LOGIN %s %s\r\n" % (mb.user.encode(),
                                            mb.password.encode()), rb"^a ")
    assert out[-1].startswith(b"a OK")
    late.sock.settimeout(5)
    assert late.line().startswith(b"* BYE")
    assert late.closed()
    # The logged-in session is past the login timeout and still works.
    time.sleep(1.5)
    assert early.cmd(b"b NOOP\r\n", rb"^b ")[-1].startswith(b"b OK")
    early.close()
    assert b.wait_log(r"reason=login-timeout")


def test_global_connection_limit(bailey_factory, isolation, filled_mailbox):
    # Exact across workers (the scoreboard), in both isolation modes.
    b = bailey_factory(isolation=isolation, workers=2,
                       extra="max-connections 4\n")
    # The harness's two readiness probes must be gone before we count.
    assert b.wait_log(r"reason=client-eof", count=2)
    held = [Raw(b.imap_port) for _ in range(4)]
    assert all(h.greeting.startswith(b"* OK") for h in held)
    over = Raw(b.imap_port)
    assert over.greeting.startswith(b"* BYE")
    assert over.closed()
    # One below the limit again: a new session is let in.
    held.pop().close()
    time.sleep(0.5)
    assert imap_login_works(b.imap_port, filled_mailbox.user,
                            filled_mailbox.password)
    for h in held:
        h.close()


def test_sasl_line_limit(bailey):
    r = Raw(bailey.imap_port)
    r.cmd(b"a AUTHENTICATE PLAIN\r\n", rb"^\+")
    r.send(b"A" * 5000 + b"\r\n")
    assert r.line().startswith(b"a BAD")
    assert r.closed()
    r = Raw(bailey.imap_port)
    cred = b64(b"\0" + b"u" * 255 + b"\0" + b"p" * 1024)
    r.cmd(b"a AUTHENTICATE PLAIN\r\n", rb"^\+")
    # The longest valid response fits; the backend just says no.
    out = r.cmd(cred + b"\r\n", rb"^a ")
    assert out[-1].startswith(b"a NO")
    r.close()
