#!/bin/sh
# make-fixtures.sh - makes the certificates that tests/verify reads,
# with nothing but the openssl command-line tool.
#
# Usage: make-fixtures.sh [OUTDIR]
#   OUTDIR defaults to the fixtures folder beside this script.
#
# Keys are fresh on every run, so a second run gives other bytes but the
# same certificates in every respect the tests look at: names, dates,
# serials, extensions, algorithms and who signed what. The tests never
# compare fixture bytes with constants; they compare with what OpenSSL
# reads from the same files. Variants that the openssl tool cannot make
# (an empty serial, a NUL inside a CN, broken encodings) are made by
# the test itself, from these files, and re-signed with these keys.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/fixtures}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM

mkdir -p "$out" "$work/new"
: > "$work/index.txt"
echo 1000 > "$work/serial"

cat > "$work/ca.cnf" <<EOF
[ ca ]
default_ca = fixture_ca

[ fixture_ca ]
database = $work/index.txt
new_certs_dir = $work/new
serial = $work/serial
default_md = sha256
policy = policy_any
preserve = yes
unique_subject = no
email_in_dn = yes
copy_extensions = none

[ policy_any ]
organizationName = optional
commonName = optional

[ ca_ext ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash

[ ca_no_kcs_ext ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, digitalSignature

[ leaf_ext ]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectAltName = DNS:device.example.com

[ leaf_eku_ext ]
extendedKeyUsage = clientAuth, emailProtection, serverAuth

[ leaf_any_eku_ext ]
extendedKeyUsage = anyExtendedKeyUsage

[ leaf_ip_ext ]
subjectAltName = IP:192.0.2.1, IP:2001:db8::1, DNS:host.example.com, \
  email:user@example.com, URI:https://example.com/device

[ leaf_other_name_ext ]
subjectAltName = otherName:1.3.6.1.4.1.311.20.2.3;UTF8:user@example.com

[ leaf_no_ext ]
EOF

# req configs: the string mask decides how -subj text is encoded.
for mask in utf8only pkix default nombstr; do
  cat > "$work/req-$mask.cnf" <<EOF
[ req ]
distinguished_name = dn
string_mask = $mask
prompt = no

[ dn ]
EOF
done

key() {
  # key NAME ALGORITHM [PKEYOPT...]
  name=$1
  alg=$2
  shift 2
  opts=
  for o in "$@"; do
    opts="$opts -pkeyopt $o"
  done
  # shellcheck disable=SC2086
  openssl genpkey -algorithm "$alg" $opts -out "$out/$name.key" 2>/dev/null
}

csr() {
  # csr KEY SUBJECT MASK -> $work/req.csr
  openssl req -new -utf8 -config "$work/req-$3.cnf" -key "$out/$1.key" \
    -subj "$2" -out "$work/req.csr"
}

issue() {
  # issue NAME CA EXT START END MD [SIGOPT...]
  # CA is CERT (key CERT.key), CERT:KEY, or self:KEY to self-sign.
  name=$1
  ca=$2
  ext=$3
  start=$4
  end=$5
  md=$6
  shift 6
  sigopts=
  for o in "$@"; do
    sigopts="$sigopts -sigopt $o"
  done
  if [ "${ca#self:}" != "$ca" ]; then
    signer="-selfsign -keyfile $out/${ca#self:}.key"
  else
    signer="-cert $out/${ca%:*}.pem -keyfile $out/${ca#*:}.key"
  fi
  # shellcheck disable=SC2086
  openssl ca -batch -config "$work/ca.cnf" -utf8 -notext $signer \
    -in "$work/req.csr" -out "$out/$name.pem" -extfile "$work/ca.cnf" \
    -extensions "$ext" -startdate "$start" -enddate "$end" -md "$md" \
    $sigopts 2>/dev/null
}

ca() {
  # ca NAME SUBJECT MD
  csr "$1" "$2" utf8only
  issue "$1" "self:$1" ca_ext 20240101000000Z 20340101000000Z "$3"
}

leaf() {
  # leaf NAME CA SUBJECT EXT MD [MASK]
  csr leaf "$3" "${6:-utf8only}"
  issue "$1" "$2" "$4" 20250101000000Z 20300101000000Z "$5"
}

# Signing keys, one per algorithm; every leaf shares one P-256 key.
key ca-rsa RSA rsa_keygen_bits:2048
key ca-rsa-impostor RSA rsa_keygen_bits:2048
key ca-pss RSA-PSS rsa_keygen_bits:2048
key ca-p256 EC ec_paramgen_curve:P-256
key ca-p384 EC ec_paramgen_curve:P-384
key ca-ed25519 ED25519
key ca-ed448 ED448
key ca-case RSA rsa_keygen_bits:2048
key ca-root RSA rsa_keygen_bits:2048
key ca-int EC ec_paramgen_curve:P-256
key leaf EC ec_paramgen_curve:P-256
key x25519 X25519
openssl genpkey -genparam -algorithm DSA -pkeyopt dsa_paramgen_bits:2048 \
  -out "$work/dsa.param" 2>/dev/null
openssl genpkey -paramfile "$work/dsa.param" -out "$out/ca-dsa.key"

# Certification authorities.
ca ca-rsa "/O=Example Corp/CN=Example RSA CA" sha256
ca ca-rsa-impostor "/O=Example Corp/CN=Example RSA CA" sha256
ca ca-pss "/O=Example Corp/CN=Example RSA-PSS CA" sha256
ca ca-p256 "/O=Example Corp/CN=Example P-256 CA" sha256
ca ca-p384 "/O=Example Corp/CN=Example P-384 CA" sha384
ca ca-ed25519 "/O=Example Corp/CN=Example Ed25519 CA" default
ca ca-ed448 "/O=Example Corp/CN=Example Ed448 CA" default
ca ca-dsa "/O=Example Corp/CN=Example DSA CA" sha256
ca ca-case "/O=Example Corp/CN=Case Test CA" sha256
ca ca-root "/O=Example Corp/CN=Example Root CA" sha256

# The same key as ca-case under a name that differs only in letter
# case, spacing and string type: its leaves name this issuer.
csr ca-case "/O=EXAMPLE   CORP/CN=case  TEST ca" nombstr
issue ca-case-variant self:ca-case ca_ext 20240101000000Z 20340101000000Z sha256

# An intermediate under the root; a CA without keyCertSign; an old CA.
csr ca-int "/O=Example Corp/CN=Example Intermediate CA" utf8only
issue ca-int ca-root ca_ext 20240101000000Z 20340101000000Z sha256
csr ca-rsa "/O=Example Corp/CN=Example No KeyCertSign CA" utf8only
issue ca-no-kcs self:ca-rsa ca_no_kcs_ext 20240101000000Z 20340101000000Z sha256
csr ca-rsa "/O=Example Corp/CN=Example Expired CA" utf8only
issue ca-expired self:ca-rsa ca_ext 20000101000000Z 20010101000000Z sha256

# Leaves, one per signature algorithm.
leaf leaf-rsa ca-rsa "/O=Example Corp/CN=rsa.example.com" leaf_ext sha256
csr leaf "/O=Example Corp/CN=pss.example.com" utf8only
issue leaf-pss ca-rsa leaf_ext 20250101000000Z 20300101000000Z sha256 \
  rsa_padding_mode:pss rsa_pss_saltlen:32
leaf leaf-pss-key ca-pss "/CN=pss-key.example.com" leaf_ext sha256
leaf leaf-p256 ca-p256 "/O=Example Corp/CN=p256.example.com" leaf_ext sha256
leaf leaf-p384 ca-p384 "/O=Example Corp/CN=p384.example.com" leaf_ext sha384
leaf leaf-ed25519 ca-ed25519 "/CN=ed25519.example.com" leaf_ext default
leaf leaf-ed448 ca-ed448 "/CN=ed448.example.com" leaf_ext default
leaf leaf-dsa ca-dsa "/CN=dsa.example.com" leaf_ext sha256
leaf leaf-sha1 ca-rsa "/CN=sha1.example.com" leaf_ext sha1
leaf leaf-sha3 ca-rsa "/CN=sha3.example.com" leaf_ext sha3-256

# Dates at the edges: UTCTime 1950 and 2049, GeneralizedTime 9999.
csr leaf "/CN=utc-edges.example.com" utf8only
issue leaf-utc-edges ca-rsa leaf_ext 19500101000000Z 20491231235959Z sha256
csr leaf "/CN=far-future.example.com" utf8only
issue leaf-far-future ca-rsa leaf_ext 20250101000000Z 99991231235959Z sha256

# Names: several CNs; CNs as BMPString, T61String and UTF8String.
leaf leaf-multi-cn ca-rsa \
  "/CN=first.example.com/O=Example Corp/CN=second.example.com/CN=third" \
  leaf_ext sha256
leaf leaf-bmp ca-rsa "/CN=Grüße aus Köln" leaf_ext sha256 pkix
leaf leaf-t61 ca-rsa "/CN=Grüße aus Köln" leaf_ext sha256 default
leaf leaf-utf8 ca-rsa "/CN=Grüße aus Köln – 東京" leaf_ext sha256
leaf leaf-printable ca-rsa "/CN=printable.example.com" leaf_ext sha256 \
  nombstr

# Extensions: EKU lists, anyExtendedKeyUsage, SANs, none at all.
leaf leaf-eku ca-rsa "/CN=eku.example.com" leaf_eku_ext sha256
leaf leaf-any-eku ca-rsa "/CN=any-eku.example.com" leaf_any_eku_ext sha256
leaf leaf-ip-san ca-rsa "/CN=ip.example.com" leaf_ip_ext sha256
leaf leaf-other-name ca-rsa "/CN=upn.example.com" leaf_other_name_ext \
  sha256
leaf leaf-no-ext ca-rsa "/CN=no-ext.example.com" leaf_no_ext sha256

# Issuers: case/space variant, and a leaf under the intermediate.
leaf leaf-case ca-case-variant:ca-case "/CN=case.example.com" leaf_ext sha256
leaf leaf-via-int ca-int "/CN=via-int.example.com" leaf_ext sha256

# MD5 is verified like any hash: judging weak hashes is a posture rule.
leaf leaf-md5 ca-rsa "/CN=md5.example.com" leaf_ext md5

# A certificate for an X25519 key, which cannot verify signatures.
openssl pkey -in "$out/x25519.key" -pubout -out "$work/x25519.pub"
csr leaf "/CN=x25519.example.com" utf8only
openssl x509 -req -in "$work/req.csr" -CA "$out/ca-rsa.pem" \
  -CAkey "$out/ca-rsa.key" -force_pubkey "$work/x25519.pub" \
  -set_serial 0x2000 -days 3650 -out "$out/x25519.pem" 2>/dev/null

echo "fixtures written to $out"
