#!/usr/bin/env python3
"""Writes every certificate of certinv dumps to one flat file, so that
the peer programs verify exactly the certificates certscan verifies.

Flat file: for each certificate, a 4-byte big-endian length, then DER.
Usage: extract_certs.py OUT.bin DUMP...
"""
import struct
import subprocess
import sys

import msgpack


def device_certs(path):
    """Yields the DER of every cert entry of every device in a dump."""
    zstd = subprocess.Popen(["zstd", "-dcq", path], stdout=subprocess.PIPE)
    unpacker = msgpack.Unpacker(zstd.stdout, raw=False,
                                max_buffer_size=64 << 20)
    for obj in unpacker:
        if not isinstance(obj, dict) or "device_id" not in obj:
            continue
        certs = obj.get("certs")
        if not isinstance(certs, list):
            continue
        for entry in certs:
            if isinstance(entry, dict) and isinstance(entry.get("der"),
                                                      bytes):
                yield entry["der"]
    zstd.wait()


def main():
    count = 0
    with open(sys.argv[1], "wb") as out:
        for path in sys.argv[2:]:
            for der in device_certs(path):
                out.write(struct.pack(">I", len(der)))
                out.write(der)
                count += 1
    print(count)


if __name__ == "__main__":
    main()
