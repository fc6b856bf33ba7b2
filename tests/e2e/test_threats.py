# Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
#
# The rows of shared/research/threats.md that concern the pre-login
# parsers, the backend login and the maps, each as a test named after its
# row (test_rowN_*), against a running bailey.  Parser-level cases of the
# same rows also live in tests/unit (test_imap_parse, test_sasl, test_map).
# Rows 4 and 40 (map sizes, keys) are covered in tests/unit/test_map.c.

import os
import subprocess

import pytest

from bailey_harness import bailey_binary
from rawclient import Raw, b64, imap_login_works, pop3_login_works


def capture_backend(hostile_backend):
    """An IMAP backend that records what it is sent and refuses logins."""
    return hostile_backend([("send", b"* OK ready\r\n"),
                            ("expect", rb"^B1 "),
                            ("send", b"B1 NO [AUTHENTICATIONFAILED] no\r\n"),
                            ("hold",)], max_conns=100)


def test_row1_hostile_tags(bailey, filled_mailbox):
    r = Raw(bailey.imap_port)
    for tag in (b"a\x00%n%n", b"%s%s%s", b"\xff\xfe", b"*", b"+", b"",
                b"a{", b"a\"", b"a%", b"x" * 100):
        r.send(tag + b" NOOP\r\n")
        ln = r.line()
        assert b" BAD " in ln, (tag, ln)
        assert b"%n" not in ln and b"%s%s" not in ln
    r.send(b"x" * 200000 + b" NOOP\r\n")            # a 200 KB tag
    try:
        r.until(rb"^\* BYE")
    except EOFError:
        pass
    r.close()
    assert imap_login_works(bailey.imap_port, filled_mailbox.user,
                            filled_mailbox.password)


def test_row6_help_and_version():
    for args, rc, word in ((["-h"], 0, b"usage"), (["-V"], 0, b"bailey"),
                           (["-Z"], 1, b"usage")):
        p = subprocess.run([bailey_binary()] + args, capture_output=True,
                           timeout=10)
        assert p.returncode == rc
        assert word in (p.stdout + p.stderr).lower()


def test_row7_passwords_never_logged(bailey_factory, filled_mailbox):
    mb = filled_mailbox
    b = bailey_factory(log_level="debug")
    u, p = mb.user.encode(), mb.password.encode()
    secret = b"Wr0ng-" + os.urandom(4).hex().encode()
    r = Raw(b.imap_port)
    r.cmd(b"a LOGIN " + u + b" " + secret + b"\r\n", rb"^a ")
    r.cmd(b"b AUTHENTICATE PLAIN " + b64(b"\0" + u + b"\0" + secret) +
          b"\r\n", rb"^b ")
    r.cmd(b"c AUTHENTICATE LOGIN\r\n", rb"^\+")
    r.cmd(b64(u) + b"\r\n", rb"^\+")
    r.cmd(b64(secret) + b"\r\n", rb"^c ")
    r.close()
    assert imap_login_works(b.imap_port, mb.user, mb.password)
    assert pop3_login_works(b.pop3_port, mb.user, mb.password)
    log = b.log_bytes()
    assert u in log                                 # the log is there
    for s in (p, secret, b64(secret), b64(b"\0" + u + b"\0" + secret),
              b64(b"\0" + u + b"\0" + p), b64(p)):
        assert s not in log, s


@pytest.mark.parametrize("lit", [b"{2147483648}", b"{4294967296}",
                                 b"{18446744073709551616}", b"{-1}",
                                 b"{1+2}", b"{}"])
def test_row9_literal_sizes(bailey, lit):
    r = Raw(bailey.imap_port)
    r.send(b"a LOGIN " + lit + b"\r\n")
    assert r.line().startswith(b"a BAD")
    assert r.cmd(b"b NOOP\r\n", rb"^b ")[-1].startswith(b"b OK")
    r.close()


def test_row9_leading_zeros_literal(bailey):
    r = Raw(bailey.imap_port)
    r.send(b"a LOGIN {00001}\r\n")
    assert r.line().startswith(b"+ ")
    r.send(b"u {1}\r\n")
    assert r.line().startswith(b"+ ")
    r.send(b"p\r\n")
    assert r.line().startswith(b"a NO")
    r.close()


def test_row13_credentials_reach_backend_exactly(bailey_factory,
                                                 hostile_backend):
    hb = capture_backend(hostile_backend)
    b = bailey_factory(imap_backend=hb.address, auth_failure_delay=0,
                       max_auth_attempts=50, max_bad_commands=50)
    r = Raw(b.imap_port)
    user = "u" * 255
    r.cmd(b"a AUTHENTICATE PLAIN " + b64("\0" + user + "\0pw") + b"\r\n",
          rb"^a ")
    assert (b'B1 LOGIN "' + user.encode() + b'" "pw"\r\n') in hb.received[0]
    for bad in (b"\0u\0p\0x", b"u\0p", b"\0\0p", b"", b"\0u\0", b"x\0u\0p",
                b"\0u\x00p\x00"):
        out = r.cmd(b"b AUTHENTICATE PLAIN " + (b64(bad) or b"=") + b"\r\n",
                    rb"^b ")
        assert out[-1].startswith(b"b BAD") or out[-1].startswith(b"b NO")
    for pad in (b"AHUAcA", b"AHUAcA=", b"AHUAcA===", b"=AHUAcA="):
        out = r.cmd(b"c AUTHENTICATE PLAIN " + pad + b"\r\n", rb"^c ")
        assert out[-1].startswith(b"c BAD")
    r.close()
    # Only the one valid attempt ever reached the backend.
    assert hb.connections == 1


def test_row14_auth_retry_state_is_clean(bailey_factory, filled_mailbox):
    mb = filled_mailbox
    b = bailey_factory(auth_failure_delay=0, max_auth_attempts=100,
                       max_bad_commands=100)
    r = Raw(b.imap_port)
    u = mb.user.encode()
    for i in range(10):
        r.cmd(b"a%d AUTHENTICATE LOGIN\r\n" % i, rb"^\+")
        r.cmd(b64(u) + b"\r\n", rb"^\+")
        r.cmd(b"*\r\n", rb"^a%d " % i)                 # abort mid-way
        out = r.cmd(b"b%d AUTHENTICATE PLAIN %s\r\n" %
                    (i, b64(b"\0" + u + b"\0bad")), rb"^b%d " % i)
        assert out[-1].startswith(b"b%d NO" % i)
    out = r.cmd(b"z AUTHENTICATE PLAIN %s\r\n" %
                b64(b"\0" + u + b"\0" + mb.password.encode()), rb"^z ")
    assert out[-1].startswith(b"z OK")
    r.close()


def test_row18_mechanisms_not_enabled(bailey):
    r = Raw(bailey.imap_port)
    for mech in (b"EXTERNAL", b"X-FOO", b"CRAM-MD5", b"ANONYMOUS",
                 b"XOAUTH2", b"plain2"):
        out = r.cmd(b"a AUTHENTICATE " + mech + b"\r\n", rb"^a ")
        assert out[-1].startswith(b"a NO"), mech
    # Mechanism names are case-insensitive: lowercase plain is PLAIN.
    assert r.cmd(b"b authenticate plain\r\n", rb"^\+")
    r.cmd(b"*\r\n", rb"^b ")
    r.close()
    r = Raw(bailey.pop3_port)
    for mech in (b"EXTERNAL", b"X-FOO", b"CRAM-MD5"):
        assert r.cmd(b"AUTH " + mech + b"\r\n", rb"^[+-]")[-1].startswith(
            b"-ERR")
    r.close()


def test_row19_crlf_in_credentials(bailey_factory, hostile_backend):
    hb = capture_backend(hostile_backend)
    b = bailey_factory(imap_backend=hb.address, pop3_backend=hb.address)
    r = Raw(b.imap_port)
    r.send(b"a LOGIN {8}\r\n")
    r.line()
    r.send(b"bo\r\nb NO {1}\r\n")
    r.line()
    r.send(b"x\r\n")
    assert r.line().startswith(b"a BAD")
    for cred in (b"bob\tx", b"bob%0d%0aDELE 1"):
        out = r.cmd(b"c AUTHENTICATE PLAIN " + b64(b"\0" + cred + b"\0p") +
                    b"\r\n", rb"^c ")
        if b"\t" in cred:
            assert out[-1].startswith(b"c BAD")
    r.close()
    # %0d%0a is not a control character: it may be looked up, but it is
    # sent as one quoted string, never as two lines.
    for rec in hb.received:
        assert b"\r\nDELE" not in rec and b"\tx" not in rec
    r = Raw(b.pop3_port)                # over-long command: error + close
    r.send(b"USER " + b"x" * 300 + b"\r\n")
    assert r.line().startswith(b"-ERR")
    assert r.closed()


def test_row20_literal_framing(bailey):
    r = Raw(bailey.imap_port)
    r.send(b"a LOGIN {99999999999999999999}\r\n")
    assert r.line().startswith(b"a BAD")
    r.send(b"b LOGIN {5}\r\n")
    assert r.line().startswith(b"+ ")
    r.send(b"abcdeX p\r\n")                 # a literal must end at SP/CRLF
    assert r.line().startswith(b"b BAD")
    r.send(b"c LOGIN {0}\r\n")              # empty literal is valid
    assert r.line().startswith(b"+ ")
    r.send(b" p\r\n")
    assert r.line().startswith(b"c BAD")    # ...but an empty user is not
    assert r.cmd(b"d NOOP\r\n", rb"^d ")[-1].startswith(b"d OK")
    r.close()


@pytest.mark.parametrize("proto", ["imap", "pop3"])
def test_row21_sasl_crlf_injection(bailey_factory, hostile_backend, proto):
    hb = capture_backend(hostile_backend)
    b = bailey_factory(imap_backend=hb.address, pop3_backend=hb.address)
    evil = (b"\0bob\r\nDELE 1\0pw", b"\0bob\0pw\r\nDELE 1", b"bob\nx\0bob\0p",
            b"\0bob\x00\x00pw")
    if proto == "imap":
        r = Raw(b.imap_port)
        for e in evil:
            out = r.cmd(b"a AUTHENTICATE PLAIN " + b64(e) + b"\r\n", rb"^a ")
            assert out[-1].startswith(b"a BAD")
        r.cmd(b"b AUTHENTICATE LOGIN\r\n", rb"^\+")
        r.cmd(b64(b"bob\r\nDELE 1") + b"\r\n", rb"^b ")
    else:
        r = Raw(b.pop3_port)
        for e in evil:
            out = r.cmd(b"AUTH PLAIN " + b64(e) + b"\r\n", rb"^[+-]")
            assert out[-1].startswith(b"-ERR")
        r.cmd(b"AUTH LOGIN\r\n", rb"^\+")
        assert r.cmd(b64(b"bob\r\nDELE 1") + b"\r\n",
                     rb"^[+-]")[-1].startswith(b"-ERR")
    r.close()
    assert hb.connections == 0          # refused before lookup/backend


def test_row26_username_templates_not_reexpanded(bailey_factory,
                                                 hostile_backend, tmp_path):
    hb = capture_backend(hostile_backend)
    mapfile = tmp_path / "popmap.re"
    mapfile.write_text("^(.*)$: $1@127.0.0.1:%d\n" % hb.port)
    os.chmod(tmp_path, 0o755)
    b = bailey_factory(imap_backend=None, map_file=str(mapfile),
                       auth_failure_delay=0, max_auth_attempts=20)
    r = Raw(b.imap_port)
    names = [b"%u", b"%{x}", b"\\\\U\\\\u\\\\d\\\\i", b"$1", b"$1$2$9"]
    for n in names:
        out = r.cmd(b"a LOGIN \"" + n + b"\" pw\r\n", rb"^a ")
        assert out[-1].startswith(b"a NO"), (n, out)
    r.close()
    got = b"".join(hb.received)
    for n in names:
        assert b"B1 LOGIN \"" + n + b"\" \"pw\"" in got, n


def test_row28_odd_usernames(bailey_factory, isolation, filled_mailbox):
    bailey = bailey_factory(isolation=isolation, max_auth_attempts=20,
                            auth_failure_delay=0)
    r = Raw(bailey.imap_port)
    for name in (b"\xff\xfe", b"\xc0\xaf", b"\xed\xa0\x80", b"a\xe2\x82"):
        r.send(b"a LOGIN {%d}\r\n" % len(name))
        assert r.line().startswith(b"+ ")
        out = r.cmd(name + b" pw\r\n", rb"^a ")
        assert out[-1].startswith(b"a NO") or out[-1].startswith(b"a BAD")
    r.close()
    assert imap_login_works(bailey.imap_port, filled_mailbox.user,
                            filled_mailbox.password)


def test_row29_quoted_strings(bailey):
    r = Raw(bailey.imap_port)
    assert r.cmd(b'a LOGIN "us\x00er" "p"\r\n', rb"^a ")[-1].startswith(
        b"a BAD")
    assert r.cmd(b'b LOGIN "us\\qer" "p"\r\n', rb"^b ")[-1].startswith(
        b"b BAD")
    assert r.cmd(b'c LOGIN "' + b"\\\\" * 3000 + b'" p\r\n',
                 rb"^c ")[-1].startswith(b"c BAD")
    r.send(b'd LOGIN "abc\\')               # then EOF
    r.close()


def test_row30_sasl_aborts(bailey, filled_mailbox):
    for proto_port, start in ((bailey.imap_port, b"a AUTHENTICATE PLAIN\r\n"),
                              (bailey.pop3_port, b"AUTH PLAIN\r\n")):
        r = Raw(proto_port)                 # disconnect mid-SASL
        r.cmd(start, rb"^\+")
        r.close()
        r = Raw(proto_port)                 # invalid base64, "=", empty
        for resp in (b"!!!!", b"=", b"", b"A"):
            r.cmd(start, rb"^\+")
            out = r.cmd(resp + b"\r\n", rb"^(a |-ERR|\+OK)")
            assert b"BAD" in out[-1] or out[-1].startswith(b"-ERR")
        r.close()
    assert imap_login_works(bailey.imap_port, filled_mailbox.user,
                            filled_mailbox.password)


def test_row31_sasl_message_sizes(bailey):
    r = Raw(bailey.imap_port)
    for msg in (b"", b"\0", b"\0" * 2, b"\0u\0", b"\0" + b"u" * 256 + b"\0p",
                b"\0u\0" + b"p" * 1025):
        out = r.cmd(b"a AUTHENTICATE PLAIN " + (b64(msg) or b"=") + b"\r\n",
                    rb"^a ")
        assert out[-1].startswith(b"a BAD"), msg
    r.cmd(b"b AUTHENTICATE LOGIN " + b64(b"u") + b"\r\n", rb"^\+")
    out = r.cmd(b"=\r\n", rb"^b ")
    assert out[-1].split(b" ")[1] in (b"NO", b"BAD")
    r.close()


def test_row32_truncated_utf8(bailey):
    r = Raw(bailey.imap_port)
    for tail in (b"\xe2\x82", b"\xf0\x9f\x98", b"\xc3"):
        out = r.cmd(b"a FROB x" + tail + b"\r\n", rb"^a ")
        assert b" BAD " in out[-1]
    assert r.cmd(b"b NOOP\r\n", rb"^b ")[-1].startswith(b"b OK")
    r.close()


def test_row34_id_abuse(bailey, filled_mailbox):
    r = Raw(bailey.imap_port)
    r.send(b"a ID " + b"(" * 100000 + b"\r\n")
    out = r.until(rb"^(a |\* BYE)")
    assert b"BAD" in out[-1] or b"BYE" in out[-1]
    r.close()
    r = Raw(bailey.imap_port)
    r.send(b"a ID (" + b'"k" "v" ' * 100000 + b")\r\n")
    out = r.until(rb"^(a |\* BYE)")
    assert b"BAD" in out[-1] or b"BYE" in out[-1]
    r.close()
    assert imap_login_works(bailey.imap_port, filled_mailbox.user,
                            filled_mailbox.password)


def test_row37_every_limit_graceful(bailey_factory, filled_mailbox):
    b = bailey_factory(workers=2, max_bad_commands=2, max_auth_attempts=1,
                       auth_failure_delay=0, extra="max-connections 3\n")
    assert b.wait_log(r"reason=client-eof", count=2)     # probes gone
    held = [Raw(b.imap_port) for _ in range(3)]
    over = Raw(b.pop3_port)
    assert over.greeting.startswith(b"-ERR")
    assert over.closed()
    held[0].send(b"a X\r\nb X\r\n")
    assert held[0].closed()
    held[1].send(b"a LOGIN nobody wrong\r\n")
    assert held[1].closed()
    held[2].close()
    assert b.alive()
    assert imap_login_works(b.imap_port, filled_mailbox.user,
                            filled_mailbox.password)


def test_row38_authenticate_with_literal(bailey):
    r = Raw(bailey.imap_port)
    r.send(b"a AUTHENTICATE PLAIN {20}\r\n")
    ln = r.line()
    if ln.startswith(b"+ "):                # parser wants the literal
        r.send(b"AHVzZXIAcGFzc3dvcmQ=\r\n")
        ln = r.line()
    assert ln.startswith(b"a BAD")
    assert r.cmd(b"b NOOP\r\n", rb"^b ")[-1].startswith(b"b OK")
    r.close()


def test_row40_tab_and_lf_in_credentials(bailey_factory, hostile_backend):
    hb = capture_backend(hostile_backend)
    b = bailey_factory(imap_backend=hb.address, pop3_backend=hb.address)
    r = Raw(b.imap_port)
    r.send(b"a LOGIN {3}\r\n")
    r.line()
    assert r.cmd(b"u\tx p\r\n", rb"^a ")[-1].startswith(b"a BAD")
    r.send(b"b LOGIN u {5}\r\n")
    r.line()
    assert r.cmd(b"p\tskip\r\n", rb"^b ")[-1].startswith(b"b BAD")
    r.close()
    r = Raw(b.pop3_port)
    r.cmd(b"USER u\r\n", rb"^\+OK")
    assert r.cmd(b"PASS a\tskip_password_check\r\n",
                 rb"^[+-]")[-1].startswith(b"-ERR")
    r.close()
    assert hb.connections == 0
