#!/usr/bin/env python3
"""Regenerates the gzip fixtures for InflateTests (python3 standard library only).

Run from this folder: python3 make-fixtures.py. Output is deterministic (mtime 0, fixed seed).
"""
import gzip, io, random, struct, zlib

rng = random.Random(1952)
noise = bytes(rng.getrandbits(8) for _ in range(6000))           # incompressible
text = b"".join(b"line %05d: the quick brown fox jumps over the lazy dog %d\n" % (i, i * i % 97)
                for i in range(420))                                # ~26 KB, repetitive
runs = b"\x00" * 3000 + b"\xff" * 700 + bytes(range(256)) * 4     # long matches, distance 1
sample = noise + text + noise + runs                                # noise again ~32 KB back
open("sample.bin", "wb").write(sample)

def gz(data, level):
    return gzip.compress(data, compresslevel=level, mtime=0)

for level in (0, 1, 9):
    open("sample-level%d.gz" % level, "wb").write(gz(sample, level))

# FNAME set (as `gzip file` writes it).
buffer = io.BytesIO()
with gzip.GzipFile(filename="sample.bin", mode="wb", fileobj=buffer, mtime=0) as f:
    f.write(sample)
open("sample-fname.gz", "wb").write(buffer.getvalue())

def raw_deflate(data, level=9, strategy=zlib.Z_DEFAULT_STRATEGY):
    c = zlib.compressobj(level, zlib.DEFLATED, -15, 9, strategy)
    return c.compress(data) + c.flush()

def trailer(data):
    return struct.pack("<II", zlib.crc32(data), len(data) & 0xFFFFFFFF)

# Every optional header field: FHCRC | FEXTRA | FNAME | FCOMMENT.
header = bytes([0x1F, 0x8B, 8, 0x02 | 0x04 | 0x08 | 0x10]) + struct.pack("<I", 0) + bytes([2, 3])
header += struct.pack("<H", 6) + b"AB\x02\x00xy" + b"sample.bin\x00" + b"a comment\x00"
header += struct.pack("<H", zlib.crc32(header) & 0xFFFF)
open("sample-allflags.gz", "wb").write(header + raw_deflate(sample) + trailer(sample))

# Fixed-Huffman blocks only (Z_FIXED), with a plain 10-byte header.
plain = bytes([0x1F, 0x8B, 8, 0]) + struct.pack("<I", 0) + bytes([0, 3])
open("sample-fixed.gz", "wb").write(plain + raw_deflate(sample, 6, zlib.Z_FIXED) + trailer(sample))

# Two members back to back: gunzip outputs both, concatenated.
open("multi-member.gz", "wb").write(gz(sample[:20000], 6) + gz(sample[20000:], 1))

# A short text; zlib picks a fixed-Huffman block for it.
open("short.gz", "wb").write(gz(b"hello, hello, hello world\n", 9))
