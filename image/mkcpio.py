#!/usr/bin/env python3
# Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
#
# mkcpio.py SPEC EPOCH > archive.cpio: writes a newc ("070701") cpio
# archive for the appliance's initramfs from a spec file, byte for byte
# reproducible: entries sorted by path, owner 0:0 unless given, every mtime
# EPOCH, inode numbers counted from 1, no host device numbers.  Device
# nodes come from the spec, so no root and no mknod are needed.  Runs at
# build time as any user; trusts the spec (written by image/build.sh) and
# the files it names.  Spec lines (blank and '#' lines ignored):
#   dir   PATH MODE [UID GID]
#   file  PATH MODE SRC [UID GID]
#   nod   PATH MODE c|b MAJOR MINOR
#   slink PATH TARGET
import stat
import sys


def header(ino, mode, uid, gid, nlink, mtime, size, rmaj, rmin, namesize):
    fields = (ino, mode, uid, gid, nlink, mtime, size, 0, 0, rmaj, rmin,
              namesize, 0)
    return b"070701" + b"".join(b"%08X" % f for f in fields)


def pad4(n):
    return (4 - n % 4) % 4


def entry(out, ino, path, mode, uid, gid, mtime, data=b"", rdev=(0, 0),
          nlink=1):
    name = path.encode() + b"\0"
    h = header(ino, mode, uid, gid, nlink, mtime, len(data), rdev[0],
               rdev[1], len(name))
    out.write(h + name + b"\0" * pad4(len(h) + len(name)))
    out.write(data + b"\0" * pad4(len(data)))


def parse(spec):
    items = {}
    with open(spec) as f:
        for lineno, line in enumerate(f, 1):
            w = line.split()
            if not w or w[0].startswith("#"):
                continue
            kind, path = w[0], w[1].lstrip("/")
            if not path or path in items:
                sys.exit("%s:%d: empty or duplicate path" % (spec, lineno))
            items[path] = (kind, w[2:], lineno)
    return items


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: mkcpio.py SPEC EPOCH > archive")
    items = parse(sys.argv[1])
    mtime = int(sys.argv[2])
    out = sys.stdout.buffer
    ino = 0
    for path in sorted(items):
        kind, a, lineno = items[path]
        ino += 1
        if kind == "dir":
            uid, gid = (int(a[1]), int(a[2])) if len(a) >= 3 else (0, 0)
            entry(out, ino, path, stat.S_IFDIR | int(a[0], 8), uid, gid,
                  mtime, nlink=2)
        elif kind == "file":
            uid, gid = (int(a[2]), int(a[3])) if len(a) >= 4 else (0, 0)
            with open(a[1], "rb") as f:
                data = f.read()
            entry(out, ino, path, stat.S_IFREG | int(a[0], 8), uid, gid,
                  mtime, data)
        elif kind == "nod":
            t = stat.S_IFCHR if a[1] == "c" else stat.S_IFBLK
            entry(out, ino, path, t | int(a[0], 8), 0, 0, mtime,
                  rdev=(int(a[2]), int(a[3])))
        elif kind == "slink":
            entry(out, ino, path, stat.S_IFLNK | 0o777, 0, 0, mtime,
                  a[0].encode())
        else:
            sys.exit("%s:%d: unknown kind %s" % (sys.argv[1], lineno, kind))
    entry(out, 0, "TRAILER!!!", 0, 0, 0, 0)
    out.flush()


if __name__ == "__main__":
    main()
