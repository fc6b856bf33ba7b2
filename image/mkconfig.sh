#!/usr/bin/env bash
# Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
#
# mkconfig.sh SRCDIR OUT.img [TLSDIR]: makes the appliance's config disk,
# a small ext2 file system holding SRCDIR/etc (bailey.conf, pbsd.conf,
# appliance.conf; mounted read-only as /etc/bailey) and an empty pbsd/
# (pbsd's writable state, owned by _pbsd = 101:101).  With TLSDIR, its
# server.pem (chain, leaf first) and server.key become etc/tls/server.pem
# (0644) and etc/tls/server.key (every *.key: 0600, root; bailey refuses
# a key that group or others can read).  Reproducible:
# fixed UUID, hash seed, owners and times (SOURCE_DATE_EPOCH, default 0).
# Runs at build or test time as any user (owners are set with debugfs, so
# no root is needed); trusts SRCDIR.
set -euo pipefail
if (($# != 2 && $# != 3)); then
	echo "usage: $0 SRCDIR OUT.img [TLSDIR]" >&2
	exit 2
fi
src=$1
out=$2
tls=${3:-}
epoch=${SOURCE_DATE_EPOCH:-0}
export PATH=$PATH:/sbin:/usr/sbin
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/etc" "$stage/pbsd"
cp -r "$src/etc/." "$stage/etc/"
if [[ -n $tls ]]; then
	mkdir -p "$stage/etc/tls"
	cp "$tls/server.pem" "$tls/server.key" "$stage/etc/tls/"
fi
chmod -R u=rwX,go=rX "$stage"
# Private keys (*.key anywhere under etc/, also a vendor's own): 0600.
find "$stage/etc" -name '*.key' -exec chmod 0600 {} +
find "$stage" -exec touch -h -d "@$epoch" {} +
rm -f "$out"
chmod 0700 "$stage/pbsd"
E2FSPROGS_FAKE_TIME=$epoch mke2fs -q -F -t ext2 -b 1024 -N 64 -m 0 \
    -L bailey-cfg -U 6d2b6c1e-0b1a-4e55-9a11-ba11e7c0f1d5 \
    -E root_owner=0:0,hash_seed=3b0e4f5c-8a1d-4c2e-b7a9-5e1f2d3c4b6a \
    -d "$stage" "$out" 4M >/dev/null
# Owners and ctimes inside the image must not depend on who built it, or
# when (mke2fs -d copies them from the staging copy).
{
	for f in $(cd "$stage" && find . -mindepth 1 | sort); do
		echo "set_inode_field /${f#./} uid 0"
		echo "set_inode_field /${f#./} gid 0"
		echo "set_inode_field /${f#./} ctime @$epoch"
	done
	echo "set_inode_field /pbsd uid 101"
	echo "set_inode_field /pbsd gid 101"
} | E2FSPROGS_FAKE_TIME=$epoch debugfs -w -f - "$out" >/dev/null 2>&1
