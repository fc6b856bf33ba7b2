# Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
#
# A scripted hostile backend in front of which bailey must fail cleanly:
# never echo backend text before login, never send credentials to a
# backend that skipped authentication, never crash.  Real Dovecot is the
# backend everywhere else; these cases are what Dovecot would never do.

import time

import pytest

from rawclient import Raw, b64


def login(port, user=b"bob", pw=b"pw"):
    r = Raw(port)
    out = r.cmd(b"a LOGIN " + user + b" " + pw + b"\r\n", rb"^a ")
    return r, out


@pytest.mark.parametrize("greeting", [
    b"* PREAUTH [CAPABILITY IMAP4rev1] logged in already\r\n",
    b"* BYE go away\r\n",
    b"+OK this is POP3\r\n",
    b"* OK \x00nul\r\n",
    b"A1 OK wrong tag\r\n",
])
def test_backend_bad_greeting(bailey_factory, hostile_backend, greeting):
    hb = hostile_backend([("send", greeting), ("hold",)])
    b = bailey_factory(imap_backend=hb.address)
    r, out = login(b.imap_port)
    assert out[-1].startswith(b"a NO [UNAVAILABLE]")
    assert b"PREAUTH" not in b"".join(out)            # nothing echoed
    assert r.cmd(b"b NOOP\r\n", rb"^b ")[-1].startswith(b"b OK")
    r.close()
    time.sleep(0.2)
    assert b"pw" not in b"".join(hb.received)          # no credentials


def test_backend_huge_line(bailey_factory, hostile_backend):
    hb = hostile_backend([("send", b"* OK " + b"x" * 100000 + b"\r\n"),
                          ("hold",)])
    b = bailey_factory(imap_backend=hb.address)
    r, out = login(b.imap_port)
    assert out[-1].startswith(b"a NO [UNAVAILABLE]")
    r.close()
    assert b.alive()


def test_backend_closes_mid_login(bailey_factory, hostile_backend):
    hb = hostile_backend([("send", b"* OK hi\r\n"), ("expect", rb"LOGIN"),
                          ("close",)])
    b = bailey_factory(imap_backend=hb.address)
    r, out = login(b.imap_port)
    assert out[-1].startswith(b"a NO [UNAVAILABLE]")
    r.close()


def test_backend_no_is_auth_failure(bailey_factory, hostile_backend):
    hb = hostile_backend([("send", b"* OK hi\r\n"), ("expect", rb"LOGIN"),
                          ("send", b"B1 NO [AUTHENTICATIONFAILED] secret "
                                   b"backend text\r\n"), ("hold",)])
    b = bailey_factory(imap_backend=hb.address, auth_failure_delay=0)
    r, out = login(b.imap_port)
    assert out[-1].startswith(b"a NO [AUTHENTICATIONFAILED]")
    assert b"secret backend text" not in out[-1]
    r.close()


def test_backend_untagged_noise_and_slow_reply(bailey_factory,
                                               hostile_backend):
    hb = hostile_backend([
        ("send", b"* OK [CAPABILITY IMAP4rev1] hi\r\n"),
        ("expect", rb"^B1 LOGIN"),
        ("send", b"* CAPABILITY IMAP4rev1 X\r\n* OK [ALERT] noise\r\nB"),
        ("sleep", 0.3),
        ("send", b"1 OK [CAPABILITY IMAP4rev1 IDLE] Logged in\r\n"
                 b"* 1 EXISTS\r\n"),
        ("expect", rb"^c NOOP"), ("send", b"c OK done\r\n"), ("hold",)])
    b = bailey_factory(imap_backend=hb.address)
    r, out = login(b.imap_port)
    assert out == [b"a OK [CAPABILITY IMAP4rev1 IDLE] Logged in"]
    assert r.line() == b"* 1 EXISTS"           # after login: relayed
    assert r.cmd(b"c NOOP\r\n", rb"^c ")[-1] == b"c OK done"
    r.close()


def test_backend_literal_for_8bit_user(bailey_factory, hostile_backend):
    hb = hostile_backend([
        ("send", b"* OK hi\r\n"),
        ("expect", rb"^B1 LOGIN \{5\}\r?$"),
        ("send", b"+ go\r\n"),
        ("expect", rb"^\xc3\xa9t\xc3\xa9 \"pw\"\r?$"),
        ("send", b"B1 OK yes\r\n"), ("hold",)])
    b = bailey_factory(imap_backend=hb.address)
    r = Raw(b.imap_port)
    r.send(b"a LOGIN {5}\r\n")
    r.line()
    out = r.cmd("été".encode() + b" pw\r\n", rb"^a ")
    assert out[-1] == b"a OK yes"
    r.close()


def test_backend_literal_plus(bailey_factory, hostile_backend):
    hb = hostile_backend([
        ("send", b"* OK [CAPABILITY IMAP4rev1 LITERAL+] hi\r\n"),
        ("expect", rb"^\"pw\"$|pw"),
        ("send", b"B1 OK yes\r\n"), ("hold",)])
    b = bailey_factory(imap_backend=hb.address)
    r = Raw(b.imap_port)
    r.send(b"a LOGIN {5}\r\n")
    r.line()
    out = r.cmd("été".encode() + b" pw\r\n", rb"^a ")
    assert out[-1] == b"a OK yes"
    assert b"B1 LOGIN {5+}\r\n" in hb.received[0]
    r.close()


def test_pop3_backend_without_capa_uses_user_pass(bailey_factory,
                                                  hostile_backend):
    hb = hostile_backend([
        ("send", b"+OK legacy\r\n"), ("expect", rb"^CAPA"),
        ("send", b"-ERR what\r\n"), ("expect", rb"^USER bob\r?$"),
        ("send", b"+OK\r\n"), ("expect", rb"^PASS pw\r?$"),
        ("send", b"+OK in\r\n"), ("expect", rb"^STAT"),
        ("send", b"+OK 0 0\r\n"), ("hold",)])
    b = bailey_factory(pop3_backend=hb.address)
    r = Raw(b.pop3_port)
    r.cmd(b"USER bob\r\n", rb"^\+OK")
    assert r.cmd(b"PASS pw\r\n", rb"^[+-]")[-1] == b"+OK in"
    assert r.cmd(b"STAT\r\n", rb"^[+-]")[-1] == b"+OK 0 0"
    r.close()


def test_pop3_backend_sasl_plain(bailey_factory, hostile_backend):
    hb = hostile_backend([
        ("send", b"+OK modern\r\n"), ("expect", rb"^CAPA"),
        ("send", b"+OK\r\nUSER\r\nSASL LOGIN PLAIN\r\n.\r\n"),
        ("expect", rb"^AUTH PLAIN " + b64(b"\0bob\0pw") + rb"\r?$"),
        ("send", b"+OK welcome\r\n"), ("hold",)])
    b = bailey_factory(pop3_backend=hb.address)
    r = Raw(b.pop3_port)
    out = r.cmd(b"AUTH PLAIN " + b64(b"\0bob\0pw") + b"\r\n", rb"^[+-]")
    assert out[-1] == b"+OK welcome"
    r.close()


def test_pop3_backend_refuses(bailey_factory, hostile_backend):
    hb = hostile_backend([
        ("send", b"+OK\r\n"), ("expect", rb"^CAPA"), ("send", b"-ERR\r\n"),
        ("expect", rb"^USER"), ("send", b"+OK\r\n"), ("expect", rb"^PASS"),
        ("send", b"-ERR [AUTH] nope, internal detail\r\n"), ("hold",)])
    b = bailey_factory(pop3_backend=hb.address, auth_failure_delay=0)
    r = Raw(b.pop3_port)
    r.cmd(b"USER bob\r\n", rb"^\+OK")
    out = r.cmd(b"PASS pw\r\n", rb"^[+-]")
    assert out[-1] == b"-ERR [AUTH] Authentication failed."
    r.close()
