#!/usr/bin/env python3
"""The program a security engineer would write instead of certscan:
pyca/cryptography, a pool of N processes, each certificate parsed and
its signature checked against the signer whose subject is its issuer.

Usage: verify_py.py SIGNERS.json CERTS.bin PROCESSES
Prints one JSON line: certificates, verified, seconds.
"""
import json
import multiprocessing
import struct
import sys
import time

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

SIGNERS = {}


def load_signers(path):
    with open(path) as f:
        data = json.load(f)
    items = data["result"] if isinstance(data, dict) else data
    signers = {}
    for item in items:
        pem = item.get("certificates")
        if not pem:
            continue
        cert = x509.load_pem_x509_certificate(pem.encode())
        signers[cert.subject.public_bytes()] = cert.public_key()
    return signers


def check(der):
    """True when the certificate's signature verifies with its signer."""
    try:
        cert = x509.load_der_x509_certificate(der)
        key = SIGNERS.get(cert.issuer.public_bytes())
        if key is None:
            return False
        # Older releases know only PKCS#1 v1.5 for certificates.
        params = getattr(cert, "signature_algorithm_parameters", None) \
            or padding.PKCS1v15()
        if isinstance(key, rsa.RSAPublicKey):
            key.verify(cert.signature, cert.tbs_certificate_bytes,
                       params, cert.signature_hash_algorithm)
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(cert.signature, cert.tbs_certificate_bytes,
                       ec.ECDSA(cert.signature_hash_algorithm))
        else:
            key.verify(cert.signature, cert.tbs_certificate_bytes)
        return True
    except (InvalidSignature, ValueError, TypeError):
        return False


def init(path):
    SIGNERS.update(load_signers(path))


def read_certs(path):
    certs = []
    with open(path, "rb") as f:
        data = f.read()
    pos = 0
    while pos + 4 <= len(data):
        (length,) = struct.unpack_from(">I", data, pos)
        certs.append(data[pos + 4:pos + 4 + length])
        pos += 4 + length
    return certs


def main():
    signers_path, certs_path, processes = sys.argv[1], sys.argv[2], \
        int(sys.argv[3])
    certs = read_certs(certs_path)
    start = time.perf_counter()
    with multiprocessing.Pool(processes, init, (signers_path,)) as pool:
        verified = sum(pool.imap_unordered(check, certs, chunksize=256))
    seconds = time.perf_counter() - start
    print(json.dumps({"peer": "python-cryptography",
                      "certificates": len(certs), "verified": verified,
                      "seconds": seconds}))


if __name__ == "__main__":
    main()
