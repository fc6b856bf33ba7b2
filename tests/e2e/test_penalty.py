# Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
#
# Per-address connection limit and growing authentication-failure delays,
# shared by all workers.  Clients connect from their own loopback
# addresses (127.0.0.x), so the harness's probes from 127.0.0.1 do not
# count.  The backend is scripted to refuse every login at once, so only
# bailey's own delay is measured (lower bounds only: never flaky-fast).

import socket
import time


from bailey_harness import HOST

DELAY_MS = 200


class Conn:
    """A connection from a given source address; close() really closes
    (a socket with an open makefile() keeps its descriptor)."""

    def __init__(self, port, src):
        self.sock = socket.socket()
        self.sock.bind((src, 0))
        self.sock.settimeout(10)
        self.sock.connect((HOST, port))
        self.f = self.sock.makefile("rwb")

    def close(self):
        self.f.close()
        self.sock.close()


def connect_from(port, src):
    c = Conn(port, src)
    return c, c.f


def refusing_backend(hostile_backend):
    return hostile_backend([("send", b"* OK hi\r\n"),
                            ("expect", rb"^B1 LOGIN"),
                            ("send", b"B1 NO [AUTHENTICATIONFAILED] no\r\n"),
                            ("hold",)], max_conns=200)


def test_per_address_limit(bailey_factory, isolation):
    b = bailey_factory(isolation=isolation, workers=2,
                       extra="max-connections-per-ip 3\n")
    held = [connect_from(b.imap_port, "127.0.0.7") for _ in range(3)]
    for _, f in held:
        assert f.readline().startswith(b"* OK")       # at the limit
    s, f = connect_from(b.imap_port, "127.0.0.7")     # one past
    assert f.readline().startswith(b"* BYE")
    s.close()
    other, fo = connect_from(b.imap_port, "127.0.0.8")
    assert fo.readline().startswith(b"* OK")          # another address
    other.close()
    held[0][0].close()
    time.sleep(0.5)
    s, f = connect_from(b.imap_port, "127.0.0.7")     # below again
    assert f.readline().startswith(b"* OK")
    s.close()
    for s, _ in held[1:]:
        s.close()
    assert b.loggrep(r"reason=too-many-from-address")


def fail_once(port, src, user, tag=b"a"):
    s, f = connect_from(port, src)
    f.readline()
    t = time.monotonic()
    f.write(tag + b" LOGIN " + user + b" wrong\r\n")
    f.flush()
    line = f.readline()
    took = time.monotonic() - t
    s.close()
    assert line.startswith(tag + b" NO"), line
    return took


def test_delay_grows_per_address(bailey_factory, hostile_backend):
    hb = refusing_backend(hostile_backend)
    b = bailey_factory(imap_backend=hb.address,
                       auth_failure_delay=DELAY_MS, max_auth_attempts=50)
    # Different users, one address: only the address's count grows.
    times = [fail_once(b.imap_port, "127.0.0.21", b"u%d" % i)
             for i in range(3)]
    assert times[0] >= 0.2 and times[2] >= 0.8, times


def test_delay_grows_per_user_across_addresses(bailey_factory,
                                               hostile_backend):
    hb = refusing_backend(hostile_backend)
    b = bailey_factory(imap_backend=hb.address,
                       auth_failure_delay=DELAY_MS, max_auth_attempts=50)
    fail_once(b.imap_port, "127.0.0.31", b"victim")
    fail_once(b.imap_port, "127.0.0.32", b"victim")
    # Third address, same user: two failures already -> 4x the base.
    took = fail_once(b.imap_port, "127.0.0.33", b"victim")
    assert took >= 0.8, took


def test_success_resets_the_penalty(bailey_factory, hostile_backend,
                                    tmp_path):
    refuse = refusing_backend(hostile_backend)
    accept = hostile_backend([("send", b"* OK hi\r\n"),
                              ("expect", rb"^B1 LOGIN"),
                              ("send", b"B1 OK in\r\n"), ("hold",)],
                             max_conns=50)
    # Logins from 127.0.0.42 go to the accepting backend (key: address).
    tmp_path.chmod(0o755)
    m = tmp_path / "by-address.map"
    m.write_text("127.0.0.42: 127.0.0.1:%d\n" % accept.port)
    b = bailey_factory(imap_backend=refuse.address,
                       auth_failure_delay=DELAY_MS, max_auth_attempts=50,
                       extra='map static "%s" key "\\i"\n' % m)
    for src in ("127.0.0.41", "127.0.0.43", "127.0.0.44"):
        fail_once(b.imap_port, src, b"good")
    s, f = connect_from(b.imap_port, "127.0.0.42")
    f.readline()
    f.write(b"a LOGIN good right\r\n")
    f.flush()
    assert f.readline().startswith(b"a OK")
    s.close()
    # A fresh address: without the reset the user's 3 failures would make
    # it 8x the base (1.6 s); after it, the base.
    took = fail_once(b.imap_port, "127.0.0.45", b"good")
    assert took < 1.0, took
