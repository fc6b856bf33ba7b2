# Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
#
# curl's imap:// and pop3:// clients through bailey to the real Dovecot:
# list and fetch/retrieve, compared byte for byte with what was delivered;
# the session-end log line names the user and the backend, and the
# password never reaches the log.  Runs in the pytest process (root),
# trusting nothing bailey sends.

import re
import subprocess

from bailey_harness import HOST, session_ends


def curl(user, password, url, *extra):
    r = subprocess.run(
        ["curl", "-sS", "--max-time", "30", "-u",
         "%s:%s" % (user, password), *extra, url],
        stdin=subprocess.DEVNULL, capture_output=True, timeout=60)
    assert r.returncode == 0, "curl %s: exit %d: %s" % (
        url, r.returncode, r.stderr.decode(errors="replace"))
    return r.stdout


def imap_url(bailey, path=""):
    return "imap://%s:%d/%s" % (HOST, bailey.imap_port, path)


def pop3_url(bailey, path=""):
    return "pop3://%s:%d/%s" % (HOST, bailey.pop3_port, path)


def test_curl_imap_list(bailey, filled_mailbox):
    mb = filled_mailbox
    out = curl(mb.user, mb.password, imap_url(bailey))
    assert re.search(rb'^\* LIST \([^)]*\) "[^"]*" "?INBOX"?\r?$', out,
                     re.M), out


def test_curl_imap_search(bailey, filled_mailbox):
    mb = filled_mailbox
    out = curl(mb.user, mb.password, imap_url(bailey, "INBOX"),
               "-X", "SEARCH ALL")
    assert re.search(rb"^\* SEARCH 1 2 3\r?$", out, re.M), out


def test_curl_imap_fetch_bytes(bailey, filled_mailbox):
    mb = filled_mailbox
    for i, want in enumerate(mb.delivered, 1):
        got = curl(mb.user, mb.password,
                   imap_url(bailey, "INBOX;MAILINDEX=%d" % i))
        assert got == want, "message %d differs" % i


def test_curl_imap_session_logged(bailey, filled_mailbox, dovecot):
    mb = filled_mailbox
    got = curl(mb.user, mb.password, imap_url(bailey, "INBOX;MAILINDEX=1"))
    assert got == mb.delivered[0]
    bailey.wait_log(r"session=[0-9a-f]+ .*user=%s " % mb.user)
    ends = session_ends(bailey, mb.user)
    assert len(ends) == 1, ends
    end = ends[0]
    assert end["backend"] == "%s:%d" % (HOST, dovecot.imap_port)
    assert end["client"].startswith(HOST + ":")
    # Bytes were counted both ways, and the message itself one way.
    assert int(end["inb"]) > 0 and int(end["outb"]) > 0
    assert max(int(end["inb"]), int(end["outb"])) >= len(mb.delivered[0])
    assert mb.password.encode() not in bailey.log_bytes()


def test_curl_pop3_list(bailey, filled_mailbox):
    mb = filled_mailbox
    out = curl(mb.user, mb.password, pop3_url(bailey))
    want = b"".join(b"%d %d\r\n" % (i, len(m))
                    for i, m in enumerate(mb.delivered, 1))
    assert out == want


def test_curl_pop3_retr_bytes(bailey, filled_mailbox):
    mb = filled_mailbox
    for i, want in enumerate(mb.delivered, 1):
        got = curl(mb.user, mb.password, pop3_url(bailey, "%d" % i))
        assert got == want, "message %d differs" % i


def test_curl_pop3_session_logged(bailey, filled_mailbox, dovecot):
    mb = filled_mailbox
    got = curl(mb.user, mb.password, pop3_url(bailey, "2"))
    assert got == mb.delivered[1]
    bailey.wait_log(r"session=[0-9a-f]+ .*user=%s " % mb.user)
    ends = session_ends(bailey, mb.user)
    assert len(ends) == 1, ends
    assert ends[0]["backend"] == "%s:%d" % (HOST, dovecot.pop3_port)
    assert int(ends[0]["inb"]) > 0 and int(ends[0]["outb"]) > 0
    assert (max(int(ends[0]["inb"]), int(ends[0]["outb"]))
            >= len(mb.delivered[1]))
    assert mb.password.encode() not in bailey.log_bytes()


def test_curl_wrong_password_refused(bailey, filled_mailbox):
    mb = filled_mailbox
    r = subprocess.run(
        ["curl", "-sS", "--max-time", "30", "-u",
         "%s:%s" % (mb.user, "not-" + mb.password), pop3_url(bailey, "1")],
        stdin=subprocess.DEVNULL, capture_output=True, timeout=60)
    assert r.returncode != 0
    assert r.stdout == b""
    assert ("not-" + mb.password).encode() not in bailey.log_bytes()
