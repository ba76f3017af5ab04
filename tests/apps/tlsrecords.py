#!/usr/bin/env python3
"""tlsrecords.py FILE [PLAIN]: FILE is one direction of a TCP stream (socat -r/-R).
Exit 0 when it is nothing but TLS records from its first byte to its last
(RFC 5246 section 6.2 / RFC 8446 section 5.1: type 20-23, version 3.x,
length at most 2^14 + 2048); print the count of each record type. Exit 1
at the first byte that is not part of a record, or when a 64-byte piece of
PLAIN (its start, middle and end) appears in FILE in clear."""
import sys

data = open(sys.argv[1], "rb").read()
off, counts = 0, {}
while off < len(data):
    if len(data) - off < 5:
        sys.exit(f"{sys.argv[1]}: {len(data) - off} stray bytes at offset {off}")
    typ, major, minor = data[off], data[off + 1], data[off + 2]
    length = int.from_bytes(data[off + 3:off + 5], "big")
    if typ not in (20, 21, 22, 23) or major != 3 or minor > 4 or length > 16384 + 2048:
        sys.exit(f"{sys.argv[1]}: not a TLS record at offset {off}: {data[off:off + 16]!r}")
    if off + 5 + length > len(data):
        sys.exit(f"{sys.argv[1]}: record at offset {off} cut short")
    counts[typ] = counts.get(typ, 0) + 1
    off += 5 + length
if len(sys.argv) > 2:
    plain = open(sys.argv[2], "rb").read()
    for at in (0, len(plain) // 2, max(0, len(plain) - 64)):
        if data.find(plain[at:at + 64]) >= 0:
            sys.exit(f"{sys.argv[1]}: plaintext from offset {at} of {sys.argv[2]} in clear")
print(" ".join(f"{t}={counts.get(t, 0)}" for t in (20, 21, 22, 23)), len(data))
