#!/usr/bin/env python3
# Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
#
# run.py: boots the appliance image in qemu (TCG, user-mode networking,
# host forwards on 127.0.0.1 only) and, for "make image-run", the demo's
# Dovecot on the host in front of which it runs.  Used by make image-run
# and by tests/image.  Runs on the host as the invoking user (root here);
# trusts qemu, Dovecot and the image; the guest's console output is only
# matched, never executed.  Every process it starts is stopped by PID,
# also on failure, Ctrl-C and SIGTERM.
#
#   run.py demo IMAGEDIR   Dovecot on 127.0.0.1:10143/10110 (the sample
#                          config's backends; state in DEMO_DIR/dovecot as
#                          with make demo), then the image with
#                          127.0.0.1:2143/2110/2993/2995 -> guest
#                          143/110/993/995; until Ctrl-C or SIGTERM.  The
#                          config disk is the sample one (image/config)
#                          with a certificate signed by the demo's CA
#                          (DEMO_DIR/tls/ca.key, made as scripts/demo.sh
#                          makes it if missing), so clients verify the
#                          appliance against DEMO_DIR/ca.pem.
#                          DEMO_DIR defaults to build/demo.
#                          IMAGE_KERNEL=vmlinuz boots the compressed
#                          kernel (as the appliance does) instead of the
#                          faster vmlinux.
import os
import queue
import re
import select
import shutil
import signal
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
DEMO_FORWARDS = {2143: 143, 2110: 110, 2993: 993, 2995: 995}
DEMO_BACKEND = (10143, 10110)
# The names clients use through the forwards; in the certificate.
DEMO_SAN = "DNS:localhost,DNS:bailey-appliance,IP:127.0.0.1,IP:10.0.2.15"
READY_RE = r"bailey-image: \[[0-9.]+\] READY (\d+)"


class Appliance:
    """One qemu running the image.  Console lines are kept in .lines and
    optionally echoed; send() types a line on the serial console.
    config_img None boots without a config disk."""

    def __init__(self, image_dir, config_img, forwards, echo=False,
                 memory=256, append="", kernel=None):
        self.image_dir = image_dir
        # vmlinux (PVH, no decompression: 3-9 s faster under TCG) unless
        # told otherwise; vmlinuz is the appliance's real kernel.
        if kernel is None:
            kernel = os.environ.get("IMAGE_KERNEL", "vmlinux")
            if not os.path.exists(os.path.join(image_dir, kernel)):
                kernel = "vmlinuz"
        self.kernel = kernel
        self.config_img = config_img
        self.forwards = dict(forwards)
        self.echo = echo
        self.memory = memory
        self.append = append
        self.proc = None
        self.lines = []
        self._q = queue.Queue()
        self._lock = threading.Lock()
        self._reader = None

    def command(self):
        fwd = ",".join("hostfwd=tcp:127.0.0.1:%d-:%d" % (h, g)
                       for h, g in sorted(self.forwards.items()))
        netdev = "user,id=n0" + ("," + fwd if fwd else "")
        return [
            "qemu-system-x86_64", "-accel", "tcg", "-m", str(self.memory),
            "-smp", "1", "-nodefaults", "-no-user-config",
            "-display", "none", "-serial", "stdio", "-no-reboot",
            "-kernel", os.path.join(self.image_dir, self.kernel),
            "-initrd", os.path.join(self.image_dir, "initramfs.img"),
            "-append", ("console=ttyS0 quiet panic=-1 " +
                        self.append).strip(),
        ] + ([] if self.config_img is None else [
            "-drive", "file=%s,format=raw,if=virtio" % self.config_img,
        ]) + [
            "-netdev", netdev,
            "-device", "virtio-net-pci,netdev=n0,romfile=",
            "-device", "virtio-rng-pci",
        ]

    def start(self):
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            self.command(), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, start_new_session=True)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        return self

    def _read(self):
        for raw in iter(self.proc.stdout.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            line = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]|\x1bc", "", line)
            with self._lock:
                self.lines.append(line)
            self._q.put(line)
            if self.echo:
                sys.stdout.write(line + "\n")
                sys.stdout.flush()
        self._q.put(None)

    def wait_for(self, pattern, timeout, start=0):
        """First console line at index >= start matching pattern: returns
        (index, match).  Raises TimeoutError (with the console's tail)."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        i = start
        while True:
            with self._lock:
                while i < len(self.lines):
                    m = rx.search(self.lines[i])
                    if m:
                        return i, m
                    i += 1
            if time.monotonic() > deadline:
                raise TimeoutError("no %r on the console after %ss; "
                                   "tail:\n%s" % (pattern, timeout,
                                                  self.tail()))
            if self.proc.poll() is not None and self._q.empty():
                raise RuntimeError("qemu exited (%s); tail:\n%s"
                                   % (self.proc.returncode, self.tail()))
            try:
                self._q.get(timeout=0.2)
            except queue.Empty:
                pass

    def tail(self, n=40):
        with self._lock:
            return "\n".join(self.lines[-n:])

    def send(self, line):
        self.proc.stdin.write(line.encode() + b"\n")
        self.proc.stdin.flush()

    def stop(self, timeout=20):
        """poweroff on the console, then SIGTERM, then SIGKILL, by PID."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            try:
                self.send("poweroff")
                self.proc.wait(timeout=timeout)
            except (OSError, subprocess.TimeoutExpired):
                pass
        for sig in (signal.SIGTERM, signal.SIGKILL):
            if self.proc.poll() is not None:
                break
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        if self._reader is not None:
            self._reader.join(timeout=5)


class Dovecot:
    """scripts/dovecot-run.sh in its own session; stopped by PID."""

    def __init__(self, root, imap_port, pop3_port, demo_mail=True):
        self.cmd = [os.path.join(TOP, "scripts", "dovecot-run.sh"), root,
                    str(imap_port), str(pop3_port)]
        if demo_mail:
            self.cmd.append("--demo-mail")
        self.proc = None

    def start(self, timeout=60):
        self.proc = subprocess.Popen(self.cmd, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT,
                                     start_new_session=True)
        deadline = time.monotonic() + timeout
        out = []
        for raw in iter(self.proc.stdout.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip()
            out.append(line)
            if line.startswith("dovecot ready"):
                threading.Thread(target=self._drain, daemon=True).start()
                return self
            if time.monotonic() > deadline:
                break
        self.stop()
        raise RuntimeError("dovecot did not start:\n" + "\n".join(out))

    def _drain(self):
        for _ in iter(self.proc.stdout.readline, b""):
            pass

    def stop(self, timeout=15):
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def demo_config(demo_dir):
    """DEMO_DIR/image/config.img: the sample config disk with a server
    certificate signed by the demo CA (DEMO_DIR/tls/ca.pem, copied to
    DEMO_DIR/ca.pem as scripts/demo.sh does).  Returns its path."""
    tls = os.path.join(demo_dir, "tls")
    own = os.path.join(demo_dir, "image")
    subprocess.run([os.path.join(HERE, "mkcert.sh"), tls, "Bailey demo CA",
                    os.path.join(own, "tls"), DEMO_SAN], check=True)
    os.chmod(tls, 0o755)
    shutil.copyfile(os.path.join(tls, "ca.pem"),
                    os.path.join(demo_dir, "ca.pem"))
    os.chmod(os.path.join(demo_dir, "ca.pem"), 0o644)
    cfg = os.path.join(own, "config.img")
    subprocess.run([os.path.join(HERE, "mkconfig.sh"),
                    os.path.join(HERE, "config"), cfg,
                    os.path.join(own, "tls")], check=True)
    return cfg


def demo_howto(demo_dir):
    ca = os.path.join(demo_dir, "ca.pem")
    print("""
image-run: once READY shows, from another terminal (user demo/demo):
  curl --cacert %(ca)s -u demo:demo 'imaps://localhost:2993/INBOX;MAILINDEX=1'
  curl --cacert %(ca)s -u demo:demo pop3s://localhost:2995/1
  curl --ssl-reqd --cacert %(ca)s -u demo:demo 'imap://localhost:2143/INBOX;MAILINDEX=1'
  curl --ssl-reqd --cacert %(ca)s -u demo:demo pop3://localhost:2110/1
  openssl s_client -connect 127.0.0.1:2993 -CAfile %(ca)s
With a DEBUG=1 image, type "pbsctl list" or "nft list" here to see the
login's address (10.0.2.2 from inside the guest) in pbsd's set.
""" % {"ca": ca}, flush=True)


def demo(image_dir):
    """make image-run: Dovecot + the image, until Ctrl-C or SIGTERM."""
    stop = threading.Event()

    def on_signal(signum, frame):
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    demo_dir = os.path.abspath(os.environ.get(
        "DEMO_DIR", os.path.join(TOP, "build", "demo")))
    os.makedirs(demo_dir, exist_ok=True)
    os.chmod(demo_dir, 0o755)   # Dovecot's users must reach it
    dc = app = None
    rc = 0
    try:
        cfg = demo_config(demo_dir)
        dc = Dovecot(os.path.join(demo_dir, "dovecot"), *DEMO_BACKEND)
        dc.start()
        print("image-run: dovecot on 127.0.0.1:%d (imap) and :%d (pop3),"
              " user demo, password demo" % DEMO_BACKEND, flush=True)
        app = Appliance(image_dir, cfg, DEMO_FORWARDS, echo=True)
        app.start()
        print("image-run: booting %s; the appliance's 143/110/993/995 "
              "are 127.0.0.1:2143/2110/2993/2995; Ctrl-C stops"
              % app.kernel, flush=True)
        demo_howto(demo_dir)
        pending = ""
        while not stop.is_set() and app.proc.poll() is None:
            # Lines typed here go to the serial console (debug image).
            pending = forward_stdin(app, pending)
            stop.wait(0.5)
    except Exception as e:
        print("image-run: %s" % e, file=sys.stderr)
        rc = 1
    finally:
        if app is not None:
            app.stop()
        if dc is not None:
            dc.stop()
    return rc


def forward_stdin(app, pending):
    """Whole lines from a terminal's stdin to the guest's console."""
    if not sys.stdin.isatty():
        return pending
    r, _, _ = select.select([sys.stdin], [], [], 0)
    if not r:
        return pending
    data = os.read(sys.stdin.fileno(), 256).decode("utf-8", "replace")
    pending += data
    while "\n" in pending:
        line, pending = pending.split("\n", 1)
        if line.strip():
            app.send(line.strip())
    return pending[-256:]


def main(argv):
    if len(argv) != 3 or argv[1] != "demo":
        print("usage: run.py demo IMAGEDIR", file=sys.stderr)
        return 2
    return demo(os.path.abspath(argv[2]))


if __name__ == "__main__":
    sys.exit(main(sys.argv))
