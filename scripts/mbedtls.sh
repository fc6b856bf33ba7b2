#!/bin/sh
# Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
#
# mbedtls.sh: build-time only, runs as whoever runs make (root or not).
# Fetches Debian 13 (trixie)'s mbedtls *source* package with private apt
# options (nothing under /etc/apt or /var/lib/apt is written; the index is
# signature-checked with the installed debian-archive-keyring), builds the
# static libraries with our own gateway/mbedtls_config.h and installs
#   OUTDIR/include/{mbedtls,psa}/    public headers (with OUR config)
#   OUTDIR/include/mbedtls-private/  pk_wrap.h (keyholder pk_info layout)
#   OUTDIR/lib/lib{mbedtls,mbedx509,mbedcrypto}.a
#   OUTDIR/.stamp                    what was built from what
# A second run with the same config, script and package version does
# nothing.  Trusts the Debian archive (via apt's signature check) only.
#
# Usage: scripts/mbedtls.sh OUTDIR
# Environment:
#   MBEDTLS_MIRROR       Debian mirror URI (default: the first URIs: line of
#                        /etc/apt/sources.list.d/debian.sources)
#   MBEDTLS_SUITE        default trixie
#   MBEDTLS_DEB_VERSION  pin a source version (default: the suite's candidate)
#   MBEDTLS_JOBS         parallel make jobs (default: nproc)

set -eu

die() {
	echo "mbedtls.sh: $*" >&2
	exit 1
}

[ $# -eq 1 ] || die "usage: scripts/mbedtls.sh OUTDIR"

TOP=$(cd "$(dirname "$0")/.." && pwd)
CONFIG=$TOP/gateway/mbedtls_config.h
SCRIPT=$TOP/scripts/mbedtls.sh
SUITE=${MBEDTLS_SUITE:-trixie}
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
JOBS=${MBEDTLS_JOBS:-$(nproc 2>/dev/null || echo 2)}

[ -f "$CONFIG" ] || die "missing $CONFIG"
mkdir -p "$1" || die "cannot create $1"
OUT=$(cd "$1" && pwd)
STAMP=$OUT/.stamp

cfg_hash=$(cat "$CONFIG" "$SCRIPT" | sha256sum | cut -d' ' -f1)

# --- 1. cache check: same config + script (+ pinned version) = no-op -----
stamp_ok() {
	[ -f "$STAMP" ] || return 1
	grep -qx "config=$cfg_hash" "$STAMP" || return 1
	if [ -n "${MBEDTLS_DEB_VERSION:-}" ]; then
		grep -qx "version=$MBEDTLS_DEB_VERSION" "$STAMP" || return 1
	fi
	for l in mbedtls mbedx509 mbedcrypto; do
		[ -f "$OUT/lib/lib$l.a" ] || return 1
	done
	[ -f "$OUT/include/mbedtls/mbedtls_config.h" ] || return 1
	return 0
}
if stamp_ok; then
	touch "$STAMP"	# newer than the config, so make stops asking
	echo "mbedtls.sh: up to date ($(grep ^version= "$STAMP"))"
	exit 0
fi

start=$(date +%s)

# --- 2. tools ---------------------------------------------------------
need_pkgs=""
command -v dpkg-source >/dev/null 2>&1 || need_pkgs="$need_pkgs dpkg-dev"
command -v make >/dev/null 2>&1 || need_pkgs="$need_pkgs make"
command -v python3 >/dev/null 2>&1 || need_pkgs="$need_pkgs python3"
[ -f "$KEYRING" ] || need_pkgs="$need_pkgs debian-archive-keyring"
if [ -n "$need_pkgs" ]; then
	[ "$(id -u)" -eq 0 ] || die "need$need_pkgs; install them (apt-get install$need_pkgs)"
	echo "mbedtls.sh: installing$need_pkgs"
	apt-get install -y -o DPkg::Lock::Timeout=900 --no-install-recommends \
	    $need_pkgs >/dev/null || die "apt-get install$need_pkgs failed"
fi

# --- 3. private apt setup (section 1 of research/deps.md) --------------
MIRROR=${MBEDTLS_MIRROR:-}
if [ -z "$MIRROR" ] && [ -f /etc/apt/sources.list.d/debian.sources ]; then
	MIRROR=$(awk '/^URIs:/{print $2; exit}' \
	    /etc/apt/sources.list.d/debian.sources)
fi
[ -n "$MIRROR" ] || MIRROR=http://deb.debian.org/debian

A=$OUT/apt
rm -rf "$A/lists" "$A/src"
mkdir -p "$A/lists/partial" "$A/cache/archives/partial" "$A/src"
cat > "$A/$SUITE.sources" <<EOS
Types: deb-src
URIs: $MIRROR
Suites: $SUITE
Components: main
Signed-By: $KEYRING
EOS
APTO="-o Dir::Etc::SourceList=$A/$SUITE.sources \
 -o Dir::Etc::SourceParts=/dev/null -o Dir::Etc::Preferences=/dev/null \
 -o Dir::Etc::PreferencesParts=/dev/null \
 -o Dir::State::Lists=$A/lists -o Dir::State::status=/dev/null \
 -o Dir::Cache=$A/cache -o Dir::Cache::archives=$A/cache/archives \
 -o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache="
[ "$(id -u)" -eq 0 ] && APTO="$APTO -o APT::Sandbox::User=root"

echo "mbedtls.sh: fetching the $SUITE source index from $MIRROR"
# shellcheck disable=SC2086
if ! apt-get $APTO --error-on=any -q update > "$A/update.log" 2>&1; then
	sed 's/^/  /' "$A/update.log" >&2
	die "cannot reach or verify the Debian archive at $MIRROR ($SUITE);" \
	    "set MBEDTLS_MIRROR to a reachable mirror"
fi
ls "$A/lists/"*"_${SUITE}_main_source_Sources"* >/dev/null 2>&1 ||
    die "no $SUITE source index fetched from $MIRROR"

# shellcheck disable=SC2086
version=$(apt-cache $APTO showsrc mbedtls 2>/dev/null |
    awk '/^Version:/{print $2}' | sort -V | tail -1)
[ -n "$version" ] || die "mbedtls not found in $SUITE's source index"
if [ -n "${MBEDTLS_DEB_VERSION:-}" ]; then
	version=$MBEDTLS_DEB_VERSION
fi
echo "mbedtls.sh: mbedtls source $version"

# --- 4. download + unpack (hashes checked against the signed index) ---
cd "$A/src"
# shellcheck disable=SC2086
if ! apt-get $APTO -q source --download-only "mbedtls=$version" \
    > "$A/source.log" 2>&1; then
	sed 's/^/  /' "$A/source.log" >&2
	die "apt-get source mbedtls=$version failed"
fi
dpkg-source -x ./mbedtls_*.dsc mbedtls > "$A/unpack.log" 2>&1 ||
    die "dpkg-source -x failed (see $A/unpack.log)"
SRC=$A/src/mbedtls
[ -f "$SRC/include/mbedtls/mbedtls_config.h" ] ||
    die "unexpected source layout in $SRC"

# --- 5. build with our config ------------------------------------------
cp "$CONFIG" "$SRC/include/mbedtls/mbedtls_config.h"
LIBCFLAGS="-O2 -g -fPIE -fstack-protector-strong -fstack-clash-protection \
 -D_FORTIFY_SOURCE=3 -ffunction-sections -fdata-sections"
echo "mbedtls.sh: building (make -j$JOBS lib)"
if ! make -C "$SRC" -j"$JOBS" lib CC="${CC:-cc}" CFLAGS="$LIBCFLAGS" \
    > "$A/build.log" 2>&1; then
	tail -40 "$A/build.log" >&2
	die "mbedtls build failed (full log: $A/build.log)"
fi

# --- 6. install -----------------------------------------------------------
rm -rf "$OUT/include" "$OUT/lib"
mkdir -p "$OUT/include/mbedtls-private" "$OUT/lib"
cp -R "$SRC/include/mbedtls" "$SRC/include/psa" "$OUT/include/"
cp "$SRC/library/pk_wrap.h" "$OUT/include/mbedtls-private/"
for l in mbedtls mbedx509 mbedcrypto; do
	cp "$SRC/library/lib$l.a" "$OUT/lib/"
done
# Keep the logs, drop the 25 MB of indexes and sources.
rm -rf "$A/src" "$A/lists" "$A/cache"
end=$(date +%s)
cat > "$STAMP" <<EOS
config=$cfg_hash
version=$version
suite=$SUITE
seconds=$((end - start))
EOS
echo "mbedtls.sh: built mbedtls $version in $((end - start)) s into $OUT"
