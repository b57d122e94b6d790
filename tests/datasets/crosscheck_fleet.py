#!/usr/bin/env python3
"""Judges a generated fleet a second time, from its bytes.

certscan-gen computes its verdicts from the specifications it made the
certificates from. This script ignores them: it decodes the shards
(zstd via the zstd program, msgpack by the small reader below), parses
and verifies every certificate with pyca/cryptography, applies the
check's steps in the brief's order, and compares every (device, rule)
verdict with expected-devices.csv and the totals with expected.json.

Usage:
  crosscheck_fleet.py DIR
  crosscheck_fleet.py --gen CERTSCAN_GEN [generator options...]

Exit status: 0 all agree, 1 a difference (printed), 77 the cryptography
package (42 or newer, for RSA-PSS certificates and timezone-aware
validity) or the zstd program is missing (ctest counts that as skipped).
"""
import datetime
import glob
import hashlib
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
    from cryptography.x509.oid import (ExtendedKeyUsageOID, NameOID,
                                       SignatureAlgorithmOID)
    import cryptography
except ImportError:
    print("crosscheck: python3 cryptography is not installed; skipped")
    sys.exit(77)

if int(cryptography.__version__.split(".")[0]) < 42:
    print("crosscheck: python3 cryptography %s is older than 42; skipped"
          % cryptography.__version__)
    sys.exit(77)

STEP = {
    "malformed_certificate": 1, "wrong_issuer": 2,
    "unsupported_algorithm": 3, "bad_signature": 3, "weak_signature": 3,
    "not_yet_valid": 4, "expired": 5, "cn_mismatch": 6, "eku_missing": 7,
    "no_private_key": 8, "private_key_unknown": 8, "key_mismatch": 8,
    "san_mismatch": 9,
}

KNOWN_SIGNATURES = {
    SignatureAlgorithmOID.RSA_WITH_SHA1, SignatureAlgorithmOID.RSA_WITH_SHA256,
    SignatureAlgorithmOID.RSA_WITH_SHA384,
    SignatureAlgorithmOID.RSA_WITH_SHA512, SignatureAlgorithmOID.RSASSA_PSS,
    SignatureAlgorithmOID.ECDSA_WITH_SHA1,
    SignatureAlgorithmOID.ECDSA_WITH_SHA256,
    SignatureAlgorithmOID.ECDSA_WITH_SHA384,
    SignatureAlgorithmOID.ED25519,
}

EKU_NAMES = {
    "clientAuth": ExtendedKeyUsageOID.CLIENT_AUTH,
    "emailProtection": ExtendedKeyUsageOID.EMAIL_PROTECTION,
}


class Ext:
    """A msgpack extension value: its type and bytes."""

    def __init__(self, kind, data):
        self.kind = kind
        self.data = data


class Reader:
    """Just enough msgpack for certinv dumps."""

    def __init__(self, data):
        self.data = data
        self.pos = 0

    def take(self, n):
        if self.pos + n > len(self.data):
            raise ValueError("truncated msgpack")
        chunk = self.data[self.pos:self.pos + n]
        self.pos += n
        return chunk

    def uint(self, n):
        return int.from_bytes(self.take(n), "big")

    def sint(self, n):
        return int.from_bytes(self.take(n), "big", signed=True)

    def items(self, n):
        return [self.read() for _ in range(n)]

    def pairs(self, n):
        out = {}
        for _ in range(n):
            key = self.read()
            out[key] = self.read()
        return out

    def read(self):
        c = self.take(1)[0]
        if c <= 0x7F:
            return c
        if c >= 0xE0:
            return c - 256
        if 0x80 <= c <= 0x8F:
            return self.pairs(c & 0x0F)
        if 0x90 <= c <= 0x9F:
            return self.items(c & 0x0F)
        if 0xA0 <= c <= 0xBF:
            return self.take(c & 0x1F).decode()
        simple = {0xC0: None, 0xC2: False, 0xC3: True}
        if c in simple:
            return simple[c]
        sizes = {0xC4: 1, 0xC5: 2, 0xC6: 4}
        if c in sizes:
            return bytes(self.take(self.uint(sizes[c])))
        sizes = {0xCC: 1, 0xCD: 2, 0xCE: 4, 0xCF: 8}
        if c in sizes:
            return self.uint(sizes[c])
        sizes = {0xD0: 1, 0xD1: 2, 0xD2: 4, 0xD3: 8}
        if c in sizes:
            return self.sint(sizes[c])
        sizes = {0xD6: 4, 0xD7: 8, 0xD8: 16}
        if c in sizes:
            kind = self.sint(1)
            return Ext(kind, self.take(sizes[c]))
        if c == 0xC7:
            n = self.uint(1)
            return Ext(self.sint(1), self.take(n))
        sizes = {0xD9: 1, 0xDA: 2, 0xDB: 4}
        if c in sizes:
            return self.take(self.uint(sizes[c])).decode()
        if c in (0xDC, 0xDD):
            return self.items(self.uint(2 if c == 0xDC else 4))
        if c in (0xDE, 0xDF):
            return self.pairs(self.uint(2 if c == 0xDE else 4))
        raise ValueError("msgpack type 0x%02x" % c)


def read_objects(path):
    if path.endswith(".zst"):
        data = subprocess.run(["zstd", "-dc", path], check=True,
                              capture_output=True).stdout
    else:
        with open(path, "rb") as f:
            data = f.read()
    reader = Reader(data)
    while reader.pos < len(data):
        yield reader.read()


def parse_strict(der):
    """The certificate, or None when `der` is not exactly one."""
    try:
        cert = x509.load_der_x509_certificate(der)
    except ValueError:
        return None
    if cert.public_bytes(serialization.Encoding.DER) != der:
        return None
    return cert


def folded(name):
    """A Name compared with case and runs of spaces folded."""
    return [(a.oid.dotted_string, " ".join(a.value.split()).lower())
            for a in name]


def signature_reason(cert, signer):
    if cert.signature_algorithm_oid not in KNOWN_SIGNATURES:
        return "unsupported_algorithm"
    key = signer.public_key()
    digest = cert.signature_hash_algorithm
    try:
        if isinstance(key, rsa.RSAPublicKey):
            key.verify(cert.signature, cert.tbs_certificate_bytes,
                       cert.signature_algorithm_parameters, digest)
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(cert.signature, cert.tbs_certificate_bytes,
                       ec.ECDSA(digest))
        elif isinstance(key, ed25519.Ed25519PublicKey):
            key.verify(cert.signature, cert.tbs_certificate_bytes)
        else:
            return "unsupported_algorithm"
    except Exception:  # any failure to verify is a bad signature
        return "bad_signature"
    if digest is not None and digest.name in ("sha1", "md5"):
        return "weak_signature"
    return None


def expand(template, device):
    """The template with the device's fields, or None if one is empty."""
    for var, key in (("${serial_number}", "serial_number"),
                     ("${hostname}", "hostname")):
        if var in template:
            value = device.get(key)
            if not value:
                return None
            template = template.replace(var, value)
    return template


def extension(cert, kind):
    try:
        return list(cert.extensions.get_extension_for_class(kind).value)
    except x509.ExtensionNotFound:
        return []


def cn_ok(cert, template, device):
    want = expand(template, device)
    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return want is not None and any(
        n.value.lower() == want.lower() for n in names)


def key_reason(cert, entry):
    if entry.get("has_key") is False:
        return "no_private_key"
    if entry.get("has_key") is None:
        return "private_key_unknown"
    if "key_spki_sha256" in entry:
        spki = cert.public_key().public_bytes(
            serialization.Encoding.DER,
            serialization.PublicFormat.SubjectPublicKeyInfo)
        if hashlib.sha256(spki).digest() != entry["key_spki_sha256"]:
            return "key_mismatch"
    return None


def san_ok(cert, templates, device):
    values = []
    for name in extension(cert, x509.SubjectAlternativeName):
        if isinstance(name, (x509.DNSName, x509.RFC822Name,
                             x509.UniformResourceIdentifier)):
            values.append(name.value.lower())
        elif isinstance(name, x509.IPAddress):
            values.append(str(name.value))
    for template in templates:
        want = expand(template, device)
        if want is not None and want.lower() in values:
            return True
    return False


def candidate_reason(cert, entry, rule, device, signer, at):
    spec = rule["input"]
    if cert is None:
        return "malformed_certificate"
    if folded(cert.issuer) != folded(signer.subject):
        return "wrong_issuer"
    reason = signature_reason(cert, signer)
    if reason:
        return reason
    if at < cert.not_valid_before_utc:
        return "not_yet_valid"
    if at > cert.not_valid_after_utc:
        return "expired"
    if spec.get("cn") is not None and not cn_ok(cert, spec["cn"], device):
        return "cn_mismatch"
    wanted = [EKU_NAMES[n] for n in spec.get("extended_key_usage", [])]
    listed = extension(cert, x509.ExtendedKeyUsage)
    if any(oid not in listed for oid in wanted):
        return "eku_missing"
    if spec.get("check_private_key"):
        reason = key_reason(cert, entry)
        if reason:
            return reason
    sans = spec.get("subject_alternative_names")
    if sans and not san_ok(cert, sans, device):
        return "san_mismatch"
    return None


def locations(rule):
    spec = rule["input"]
    if rule["type"] == "client_certificate" or "locations" not in spec:
        return {"system", "user"}, []
    loc = spec["locations"]
    return set(loc.get("trust_stores", [])), loc.get("paths", [])


def verdict(device, certs, rule, signers, at):
    os_name = device["os"]
    if os_name not in ("windows", "mac", "linux"):
        return None
    if (rule["type"] == "client_certificate_v2" and
            rule["input"]["operating_system"] != os_name):
        return None
    stores, paths = locations(rule)
    signer = signers[rule["input"]["certificate_id"]]
    best = None
    for entry, cert in zip(device["certs"], certs):
        if entry["store"] == "path":
            selected = entry.get("path") in paths
        else:
            selected = entry["store"] in stores
        if not selected:
            continue
        reason = candidate_reason(cert, entry, rule, device, signer, at)
        if reason is None:
            return ("pass", "")
        if best is None or STEP[reason] > STEP[best]:
            best = reason
    selects = stores | ({"path"} if paths else set())
    if ("collected_stores" in device and
            not selects & set(device["collected_stores"])):
        return ("unknown", "not_collected")
    return ("fail", best or "no_certificate")


def well_formed(record):
    return (isinstance(record, dict) and
            isinstance(record.get("device_id"), str) and
            isinstance(record.get("os"), str) and
            isinstance(record.get("certs"), list))


def judge(folder):
    with open(os.path.join(folder, "expected.json")) as f:
        expected = json.load(f)
    at = datetime.datetime.fromisoformat(
        expected["evaluated_at"].replace("Z", "+00:00"))
    with open(os.path.join(folder, "rules.json")) as f:
        rules = [r for r in json.load(f)["result"]
                 if r["type"] in ("client_certificate_v2",
                                  "client_certificate")]
    with open(os.path.join(folder, "signers.json")) as f:
        signers = {s["id"]: x509.load_pem_x509_certificate(
            s["certificates"].encode()) for s in json.load(f)["result"]}

    found = {}
    counts = {"read": 0, "malformed": 0, "certs": 0, "certs_malformed": 0}
    for path in sorted(glob.glob(os.path.join(folder, "fleet-*.msgpack*"))):
        objects = read_objects(path)
        header = next(objects)
        if header.get("format") != "certinv" or header.get("version") != 1:
            print("crosscheck: %s: bad header %r" % (path, header))
            return 1
        for record in objects:
            counts["read"] += 1
            if not well_formed(record):
                counts["malformed"] += 1
                continue
            certs = [parse_strict(e["der"]) for e in record["certs"]]
            counts["certs"] += len(certs)
            counts["certs_malformed"] += certs.count(None)
            for rule in rules:
                v = verdict(record, certs, rule, signers, at)
                if v is not None:
                    found[(record["device_id"], rule["id"])] = v
    return compare(folder, expected, found, counts)


def compare(folder, expected, found, counts):
    wanted = {}
    with open(os.path.join(folder, "expected-devices.csv")) as f:
        for line in f.read().splitlines()[1:]:
            device_id, rule_id, v, reason = line.split(",")
            wanted[(device_id, rule_id)] = (v, reason)

    differences = 0
    for key in sorted(set(found) | set(wanted)):
        if found.get(key) != wanted.get(key):
            differences += 1
            if differences <= 20:
                print("crosscheck: device %s rule %s: bytes say %s, "
                      "generator says %s" % (key[0], key[1],
                                             found.get(key),
                                             wanted.get(key)))
    totals = (expected["devices"]["read"], expected["devices"]["malformed"],
              expected["certificates"]["read"],
              expected["certificates"]["malformed"])
    mine = (counts["read"], counts["malformed"], counts["certs"],
            counts["certs_malformed"])
    if totals != mine:
        print("crosscheck: totals %r, expected.json %r" % (mine, totals))
        differences += 1
    print("crosscheck: %d (device, rule) pairs, %d differences"
          % (len(found), differences))
    return 1 if differences else 0


def main(argv):
    if shutil.which("zstd") is None:
        print("crosscheck: the zstd program is not installed; skipped")
        return 77
    if len(argv) >= 3 and argv[1] == "--gen":
        with tempfile.TemporaryDirectory() as folder:
            subprocess.run([argv[2], "--out", folder] + argv[3:], check=True)
            return judge(folder)
    if len(argv) != 2:
        print(__doc__)
        return 2
    return judge(argv[1])


if __name__ == "__main__":
    sys.exit(main(sys.argv))
