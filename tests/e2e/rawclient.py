# Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
#
# A raw line client for hostile-input tests: sends exact bytes, reads
# replies with a timeout, and tells a clean close from a hang.  Runs in the
# pytest process and talks only to loopback.

import base64
import imaplib
import poplib
import re
import socket
import time

HOST = "127.0.0.1"


class Raw:
    def __init__(self, port, timeout=5.0):
        self.sock = socket.create_connection((HOST, port), timeout=timeout)
        self.buf = b""
        self.greeting = self.line()

    def send(self, data):
        self.sock.sendall(data)

    def _fill(self):
        data = self.sock.recv(65536)
        if not data:
            raise EOFError("connection closed")
        self.buf += data

    def line(self):
        """One line with its CRLF stripped; EOFError at a close."""
        while b"\n" not in self.buf:
            self._fill()
        line, self.buf = self.buf.split(b"\n", 1)
        return line.rstrip(b"\r")

    def until(self, pattern):
        """Lines up to and including the first matching one."""
        rx = re.compile(pattern)
        out = []
        while True:
            ln = self.line()
            out.append(ln)
            if rx.search(ln):
                return out

    def cmd(self, data, pattern):
        self.send(data)
        return self.until(pattern)

    def closed(self, timeout=5.0):
        """True if the server closes the connection (after any pending
        lines) within timeout."""
        self.sock.settimeout(timeout)
        try:
            while True:
                data = self.sock.recv(65536)
                if not data:
                    return True
                self.buf += data
        except socket.timeout:
            return False
        except ConnectionResetError:
            return True

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def b64(s):
    if isinstance(s, str):
        s = s.encode()
    return base64.b64encode(s)


def imap_login_works(port, user, password):
    """A normal IMAP login, SELECT and LOGOUT through bailey."""
    m = imaplib.IMAP4(HOST, port, timeout=10)
    try:
        typ, _ = m.login(user, password)
        assert typ == "OK"
        typ, _ = m.select("INBOX")
        assert typ == "OK"
    finally:
        try:
            m.logout()
        except Exception:
            pass
    return True


def pop3_login_works(port, user, password):
    p = poplib.POP3(HOST, port, timeout=10)
    try:
        p.user(user)
        assert p.pass_(password).startswith(b"+OK")
        p.stat()
    finally:
        try:
            p.quit()
        except Exception:
            pass
    return True


def wait_for(pred, timeout=5.0, step=0.05):
    end = time.time() + timeout
    while time.time() < end:
        if pred():
            return True
        time.sleep(step)
    return pred()
