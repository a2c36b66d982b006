#!/usr/bin/env python3
"""Turns a ferry archive (.fza) into a seed of the `archive` fuzz target (targets/archive.cc):
two little-endian bytes giving the length of the data frames, the data frames, then the
manifest's plain bytes. Needs the zstd command. Usage: make_archive_seed.py IN.fza OUT"""
import struct
import subprocess
import sys

HEADER, TRAILER = 24, 40


def main(src, dst):
    blob = open(src, "rb").read()
    offset, size = struct.unpack_from("<QQ", blob, len(blob) - TRAILER + 8)
    frames = blob[HEADER:offset]
    if len(frames) > 0xFFFF:
        sys.exit(f"{src}: {len(frames)} bytes of frames; a seed holds at most 65535")
    packed = blob[offset + 8:offset + size]
    plain = subprocess.run(["zstd", "-dc"], input=packed, capture_output=True, check=True).stdout
    with open(dst, "wb") as out:
        out.write(struct.pack("<H", len(frames)) + frames + plain)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
