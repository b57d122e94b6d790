#!/bin/sh
# Makes the certificates the ingest tests pack into certinv records: a
# small CA and a client certificate it signed (EC P-256), in DER, plus
# the SHA-256 of the client key's SubjectPublicKeyInfo in hex.
#
# The ingest module treats certificates as opaque bytes; the tests use
# real ones so that what they carry is what a collector would send.
# Run from anywhere; it rewrites tests/ingest/fixtures/.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
out="$here/fixtures"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

mkdir -p "$out"
openssl ecparam -name prime256v1 -genkey -noout -out "$work/ca.key"
openssl req -x509 -new -key "$work/ca.key" -sha256 -days 3650 \
  -subj "/O=certscan tests/CN=certscan ingest test CA" \
  -addext "basicConstraints=critical,CA:TRUE" \
  -addext "keyUsage=critical,keyCertSign,cRLSign" \
  -outform DER -out "$out/ca.der"

openssl ecparam -name prime256v1 -genkey -noout -out "$work/client.key"
openssl req -new -key "$work/client.key" \
  -subj "/CN=host-0001.corp.example" -out "$work/client.csr"
printf '%s\n' "extendedKeyUsage=clientAuth" \
  "subjectAltName=DNS:host-0001.corp.example" > "$work/ext.cnf"
openssl x509 -req -in "$work/client.csr" -CA "$out/ca.der" \
  -CAform DER -CAkey "$work/ca.key" -CAcreateserial -CAserial "$work/ca.srl" \
  -days 825 -sha256 \
  -extfile "$work/ext.cnf" -outform DER -out "$out/client.der"

openssl pkey -in "$work/client.key" -pubout -outform DER |
  openssl dgst -sha256 -r | cut -d' ' -f1 > "$out/client.spki.sha256"
