#!/usr/bin/env python3
# Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
#
# vmlinux.py BZIMAGE OUT: writes the uncompressed kernel (an ELF with a
# PVH entry note) that Debian's bzImage carries, so that qemu can boot it
# directly with -kernel.  Under TCG the bzImage's own xz decompressor
# takes 3-9 s; the PVH boot skips it (but also the decompressor's KASLR
# of the kernel base: a test and demo aid, not the appliance's kernel).
# Runs at build time as any user; trusts the kernel package (apt-checked).
# Uses the boot protocol's header fields (Documentation/x86/boot.rst):
# setup_sects at 0x1f1, payload_offset at 0x248, payload_length at 0x24c.
import lzma
import struct
import sys


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: vmlinux.py BZIMAGE OUT")
    with open(sys.argv[1], "rb") as f:
        img = f.read()
    if img[0x202:0x206] != b"HdrS":
        sys.exit("%s: not a bzImage" % sys.argv[1])
    setup_sects = img[0x1f1] or 4
    off, length = struct.unpack_from("<II", img, 0x248)
    start = (setup_sects + 1) * 512 + off
    payload = img[start:start + length]
    if not payload.startswith(b"\xfd7zXZ\x00"):
        sys.exit("%s: payload is not xz (CONFIG_KERNEL_XZ)" % sys.argv[1])
    # The kernel appends the uncompressed size after the xz stream.
    kernel = lzma.LZMADecompressor(format=lzma.FORMAT_XZ).decompress(payload)
    if not kernel.startswith(b"\x7fELF"):
        sys.exit("%s: payload is not an ELF kernel" % sys.argv[1])
    with open(sys.argv[2], "wb") as f:
        f.write(kernel)


if __name__ == "__main__":
    main()
