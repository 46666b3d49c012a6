#!/usr/bin/env python3
"""Writes the seed corpora of the IDX, CIFAR, PNG and CLI harnesses from the shipped data.

Run from the repository root: python3 Fuzz/make-corpus.py. The checkpoint seeds are written
by the FuzzSeeds executable instead (run.sh --seeds), because they need CNNKit's own writer.
Every file is small (a few KB) so that the committed corpus stays under 200 KB.
"""
import gzip
import json
import os
import struct
import zlib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MNIST = os.path.join(ROOT, "Sources/CNNData/Resources/mnist-sample")
CIFAR = os.environ.get(
    "CIFAR_SAMPLE", os.path.join(ROOT, "..", "shared", "datasets", "cifar10-sample", "data_batch_1.bin"))
OUT = os.path.join(ROOT, "Fuzz/corpus")


def write(harness, name, data):
    os.makedirs(os.path.join(OUT, harness), exist_ok=True)
    with open(os.path.join(OUT, harness, name), "wb") as f:
        f.write(data)


def gz(data, level=9, name=None):
    # mtime 0 so the seeds are the same bytes every time
    return gzip.compress(data, compresslevel=level, mtime=0)


# MARK: IDX: small valid files cut from the bundled MNIST sample, plain and gzip, and the
# first bytes of the bundled .gz files (truncated gzip).
with gzip.open(os.path.join(MNIST, "train-labels-idx1-ubyte.gz")) as f:
    labels = f.read()
with gzip.open(os.path.join(MNIST, "train-images-idx3-ubyte.gz")) as f:
    images = f.read()
labels16 = struct.pack(">II", 0x801, 16) + labels[8:24]
images2 = struct.pack(">IIII", 0x803, 2, 28, 28) + images[16:16 + 2 * 784]
images_small = struct.pack(">IIII", 0x803, 3, 4, 4) + images[16 + 12 * 28:16 + 12 * 28 + 48]
write("idx", "labels16.idx1", labels16)
write("idx", "labels16.idx1.gz", gz(labels16))
write("idx", "images2.idx3", images2)
write("idx", "images2.idx3.gz", gz(images2))
write("idx", "images3x4x4.idx3.gz", gz(images_small, level=1))
write("idx", "images3x4x4-stored.idx3.gz", gz(images_small, level=0))
write("idx", "two-members.idx1.gz", gz(labels16[:12]) + gz(labels16[12:]))
write("idx", "rank4.idx", struct.pack(">IIIII", 0x804, 1, 2, 2, 2) + bytes(range(8)))
for name in ["train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz"]:
    with open(os.path.join(MNIST, name), "rb") as f:
        write("idx", "head-" + name, f.read(1024))

# MARK: CIFAR: the first byte picks the class count in the harness (byte % 16 + 1; 9 → 10),
# then one or two records of the sample's first batch.
with open(CIFAR, "rb") as f:
    records = f.read(3 * 3073)
write("cifar", "one-record.bin", b"\x09" + records[:3073])
write("cifar", "two-records.bin", b"\x09" + records[3073:3 * 3073])
write("cifar", "three-classes.bin", b"\x02" + records[:3073])


# MARK: PNG: an MNIST digit and a CIFAR image in every colour type and bit depth.
def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png(width, height, depth, color, rows, palette=None, trns=None, filters=(0,), idat_split=1):
    raw = b"".join(bytes([filters[y % len(filters)]]) + row for y, row in enumerate(rows))
    stream = zlib.compress(raw, 9)
    out = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, depth, color, 0, 0, 0))
    if palette:
        out += chunk(b"PLTE", palette)
    if trns is not None:
        out += chunk(b"tRNS", trns)
    step = -(-len(stream) // idat_split)
    for i in range(0, len(stream), step):
        out += chunk(b"IDAT", stream[i:i + step])
    return out + chunk(b"tEXt", b"Source\x00CNNKit fuzz seeds") + chunk(b"IEND", b"")


def pack(values, depth):
    if depth == 16:
        return b"".join(struct.pack(">H", v * 257) for v in values)
    if depth == 8:
        return bytes(values)
    out, per = bytearray(), 8 // depth
    for i in range(0, len(values), per):
        byte = 0
        for j, v in enumerate(values[i:i + per]):
            byte |= (v >> (8 - depth)) << (8 - depth * (j + 1))
        out.append(byte)
    return bytes(out)


digit = [list(images[16 + 784 * 5 + 28 * y:16 + 784 * 5 + 28 * (y + 1)]) for y in range(28)]
small = [row[6:22] for row in digit[6:22]]  # 16 × 16
for depth in (1, 2, 4, 8, 16):
    write("png", f"digit-grey{depth}.png", png(16, 16, depth, 0, [pack(r, depth) for r in small], filters=(0, 1, 2, 3, 4)))
write("png", "digit-grey8-trns.png", png(16, 16, 8, 0, [bytes(r) for r in small], trns=b"\x00\x00"))
write("png", "digit-grey-alpha8.png", png(16, 16, 8, 4, [bytes(sum(([v, 255 - v] for v in r), [])) for r in small]))
cifar = records[1:3073]
rgb = [[cifar[c * 1024 + y * 32 + x] for x in range(8, 24) for c in range(3)] for y in range(8, 24)]
write("png", "cifar-rgb8.png", png(16, 16, 8, 2, [bytes(r) for r in rgb], filters=(4, 3, 2, 1, 0), idat_split=3))
write("png", "cifar-rgb16.png", png(16, 16, 16, 2, [pack(r, 16) for r in rgb], trns=b"\x00\x01\x00\x02\x00\x03"))
write("png", "cifar-rgba8.png", png(16, 16, 8, 6, [bytes(sum(([*r[3 * x:3 * x + 3], 200] for x in range(16)), [])) for r in rgb]))
palette = bytes(sum(([v, v, v] for v in range(0, 256, 17)), []))  # 16 greys
write("png", "digit-palette4.png", png(16, 16, 4, 3, [pack([v & 0xF0 for v in r], 4) for r in small],
                                         palette=palette, trns=bytes(range(0, 256, 32))))
write("png", "digit-palette8.png", png(16, 16, 8, 3, [bytes(v >> 4 for v in r) for r in small], palette=palette))

# MARK: CLI: argument lists, one argument after another, separated by NUL bytes.
commands = [
    ["train", "--epochs", "1", "--checkpoint", "run.safetensors"],
    ["train", "--model", "lenet5", "--dataset", "mnist", "--data-dir", "data/mnist", "--epochs", "20",
     "--batch-size", "100", "--optimizer", "adam", "--learning-rate", "0.001", "--seed", "42", "--json"],
    ["train", "--model", "resnet18", "--schedule", "cosine,warmup=2", "--augment", "flip,crop=4",
     "--weight-decay", "0.01", "--optimizer", "adamw", "--normalize", "--drop-last-batch"],
    ["train", "--resume", "run.safetensors", "--schedule", "plateau,factor=0.1,patience=10", "--clip-norm", "1"],
    ["evaluate", "--checkpoint", "run.safetensors", "--json"],
    ["predict", "--checkpoint", "run.safetensors", "digit.png"],
    ["summary", "--model", "alexnet", "--input", "3x227x227"],
    ["summary", "--model", "googlenet", "--json"],
    ["export", "--checkpoint", "run.safetensors", "--output", "weights.safetensors"],
    ["visualize", "filters", "--checkpoint", "run.safetensors", "--layer", "0", "--output", "c1.png"],
    ["visualize", "confusion", "--checkpoint", "run.safetensors", "--matrix"],
    ["visualize", "augment", "--augment", "flip,crop=4,rotate=10"],
    ["convolve", "--kernel", "sharpen", "camera.png"],
    ["explain", "conv", "--input", "5x5", "--kernel", "3", "--stride", "1", "--padding", "1"],
    ["explain", "pool", "--help"],
    ["benchmark", "--threads", "1"],
    ["--version"],
    ["help", "train"],
]
for i, args in enumerate(commands):
    write("cli", f"{i:02d}-{args[0].strip('-')}", b"\x00".join(a.encode() for a in args))

# MARK: safetensors: the metadata of the checkpoint seeds (written by FuzzSeeds; run.sh --seeds
# writes them first) over one tiny tensor, and an F16 and an I64 tensor, so that inputs stay
# small and the fuzzer spends its time on the header and the JSON metadata.
def safetensors(tensors, metadata):
    header, data = {}, b""
    for name, dtype, shape, raw in tensors:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    if metadata is not None:
        header["__metadata__"] = metadata
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + data


tiny = [("0.bias", "F32", [3], struct.pack("<3f", 0.5, -1.0, 2.0)),
        ("0.weight", "F16", [1, 1, 1, 2], struct.pack("<2e", 1.0, -0.5)),
        ("1.num_batches_tracked", "I64", [], struct.pack("<q", 7))]
for name in ["weights", "with-run", "with-state"]:
    path = os.path.join(OUT, "checkpoint", name + ".safetensors")
    if os.path.exists(path):
        with open(path, "rb") as f:
            raw = f.read()
        length = struct.unpack("<Q", raw[:8])[0]
        metadata = json.loads(raw[8:8 + length])["__metadata__"]
        write("safetensors", name + "-metadata.safetensors", safetensors(tiny, metadata))
write("safetensors", "plain.safetensors", safetensors(tiny, None))
write("safetensors", "empty.safetensors", safetensors([], {"note": "no tensors"}))
