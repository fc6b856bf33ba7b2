#!/usr/bin/env bash
# Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
#
# mkcert.sh CADIR CANAME OUTDIR SAN: the appliance's TLS certificate.
# Makes CADIR/ca.key + CADIR/ca.pem (an ECDSA P-256 CA named CANAME) if
# they are missing, and OUTDIR/server.key + OUTDIR/server.pem (ECDSA
# P-256, subjectAltName SAN, e.g. "DNS:localhost,IP:127.0.0.1") signed
# by it, unless OUTDIR already holds a pair that verifies against
# CADIR/ca.pem.  Keys are made once and kept: the sample disk of
# "make image" stays byte-identical from build to build as long as its
# cache (build/image-cache/sample-tls) is kept, and "make image-run"
# reuses the demo's CA in DEMO_DIR/tls (the layout of scripts/demo.sh).
# Runs at build or test time as the invoking user; trusts openssl.
set -euo pipefail
if (($# != 4)); then
	echo "usage: $0 CADIR CANAME OUTDIR SAN" >&2
	exit 2
fi
ca=$1
caname=$2
out=$3
san=$4
mkdir -p "$ca" "$out"
umask 077
if [[ ! -s $ca/ca.key || ! -s $ca/ca.pem ]]; then
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
	    -nodes -keyout "$ca/ca.key" -out "$ca/ca.pem" -days 3650 \
	    -subj "/CN=$caname" 2>/dev/null
	chmod 0644 "$ca/ca.pem"
	rm -f "$out/server.pem"
fi
if [[ -s $out/server.key && -s $out/server.pem ]] &&
    openssl verify -CAfile "$ca/ca.pem" "$out/server.pem" >/dev/null 2>&1
then
	exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$tmp/server.key" -out "$tmp/server.csr" \
    -subj "/CN=bailey-appliance" 2>/dev/null
printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\n' "$san" >"$tmp/ext"
openssl x509 -req -in "$tmp/server.csr" -CA "$ca/ca.pem" \
    -CAkey "$ca/ca.key" -CAcreateserial -CAserial "$tmp/ca.srl" \
    -days 825 -extfile "$tmp/ext" -out "$tmp/server.pem" 2>/dev/null
chmod 0644 "$tmp/server.pem"
mv "$tmp/server.key" "$out/server.key"
mv "$tmp/server.pem" "$out/server.pem"
