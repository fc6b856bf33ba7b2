#!/bin/sh
# Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
#
# mkcerts.sh DIR: makes the TLS test PKI at test time with openssl(1).
# Runs in the test process only, as the invoking user; trusts nothing but
# openssl.  Files in DIR (keys mode 0600 unless named *_0644.key):
#   ca.pem ca.key            ECDSA P-256 test CA
#   ca2.pem                  another CA (the "wrong CA")
#   ec.pem ec.key            ECDSA P-256 leaf, SAN DNS:localhost IP:127.0.0.1
#   rsa.pem rsa.key          RSA 2048 leaf, SAN DNS:localhost DNS:rsa.test
#   mail.pem mail.key        ECDSA leaf, SAN DNS:mail.example.test *.wild.test
#   wrong.pem wrong.key      ECDSA leaf, SAN DNS:wrong.test
#   expired.pem expired.key  ECDSA leaf for localhost, expired in 2021
#   ec_0644.key              a copy of ec.key readable by everyone
#   cadir/ ca2dir/           directories holding ca.pem / ca2.pem
#   <name>.pin               SHA-256 of the leaf's SubjectPublicKeyInfo (DER)
set -eu

[ $# -eq 1 ] || { echo "usage: mkcerts.sh DIR" >&2; exit 2; }
D=$1
mkdir -p "$D/newcerts"
cd "$D"
umask 077

ecgen() {
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
	    -out "$1.key" 2>/dev/null
}

mkca() {
	ecgen "$1"
	openssl req -x509 -new -key "$1.key" -out "$1.pem" -days 30 \
	    -subj "/CN=$2" -addext basicConstraints=critical,CA:TRUE \
	    -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
}

mkca ca "Bailey Test CA"
mkca ca2 "Bailey Other CA"

: > index.txt
echo 1000 > serial
cat > ca.cnf <<'EOS'
[ca]
default_ca = tca
[tca]
dir = .
database = ./index.txt
new_certs_dir = ./newcerts
serial = ./serial
default_md = sha256
policy = pol
copy_extensions = copy
unique_subject = no
x509_extensions = leaf_ext
[pol]
commonName = supplied
[leaf_ext]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
EOS

# leaf NAME CN SAN [openssl-ca dates...]
leaf() {
	n=$1 cn=$2 san=$3
	shift 3
	[ -f "$n.key" ] || ecgen "$n"
	openssl req -new -key "$n.key" -out "$n.csr" -subj "/CN=$cn" \
	    -addext "subjectAltName=$san" 2>/dev/null
	openssl ca -batch -notext -config ca.cnf -cert ca.pem -keyfile ca.key \
	    -in "$n.csr" -out "$n.pem" "$@" 2>/dev/null
	openssl pkey -in "$n.key" -pubout -outform DER 2>/dev/null |
	    openssl dgst -sha256 -binary > "$n.pin"
}

leaf ec localhost "DNS:localhost,IP:127.0.0.1" -days 30
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 \
    -out rsa.key 2>/dev/null
leaf rsa rsa.test "DNS:localhost,DNS:rsa.test" -days 30
leaf mail mail.example.test "DNS:mail.example.test,DNS:*.wild.test" -days 30
leaf wrong wrong.test "DNS:wrong.test" -days 30
leaf expired localhost "DNS:localhost,IP:127.0.0.1" \
    -startdate 20200101000000Z -enddate 20210101000000Z

mkdir -p cadir ca2dir
cp ca.pem cadir/
cp ca2.pem ca2dir/
cp ec.key ec_0644.key
chmod 0644 ec_0644.key
chmod 0600 ./*.key
chmod 0644 ec_0644.key ./*.pem ./*.pin cadir/* ca2dir/*
chmod 0755 cadir ca2dir
echo "mkcerts: ok"
