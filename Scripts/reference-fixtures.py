#!/usr/bin/env python3
"""Reference fixtures for CNNKit's safetensors checkpoints, written by PyTorch.

Run once, by hand, with PyTorch, torchvision and safetensors installed
(`pip install torchvision safetensors`); the tests read the files it writes without PyTorch:

    python3 Scripts/reference-fixtures.py            # writes Tests/CNNTrainingTests/Fixtures/
    python3 Scripts/reference-fixtures.py --verify FILE [--input X --output Y]

Fixtures (about 250 KB in all):

1. simple-convnet.safetensors: the state_dict of the seeds' SimpleConvNet as an
   nn.Sequential (keys 0.weight, 0.bias, 4.weight, 4.bias, 6.weight, 6.bias), saved with
   safetensors.torch.save_file, F32, no metadata (a plain PyTorch file). Built for 1x12x12
   images so the file stays small (at 28x28 the 4320x100 layer alone is 1.7 MB); the
   architecture is otherwise the seeds'. simple-convnet-io.safetensors holds an input batch
   `input` [2, 1, 12, 12] and PyTorch's logits `output` [2, 10].
2. tiny-resnet.safetensors: a small network built from torchvision's own
   torchvision.models.resnet.BasicBlock (stem conv+bn+relu+maxpool, an identity block and a
   strided block with a downsample projection, global pooling, fc), with batch-norm running
   statistics from a few training steps, saved in F16 (PyTorch's half) with the I64
   num_batches_tracked counters. tiny-resnet-io.safetensors: input [2, 3, 16, 16], logits.
3. resnet18-keys.txt: every key and shape of torchvision.models.resnet18(num_classes=10)'s
   state_dict, and resnet18-io.safetensors: logits of that real torchvision resnet18 on a
   [2, 3, 32, 32] input when every tensor is filled by `formula_tensor` below (the full
   state_dict is 45 MB, too big to commit; the formula is integer hashing, reproduced
   exactly by the Swift test, so the same weights exist on both sides without the file).

--verify FILE loads a safetensors file with safetensors.torch.load_file, prints its
metadata, keys, dtypes and shapes, and, when the metadata names a model this script knows
(simple-convnet, resnet18..152), loads it into the PyTorch model with strict=True; with
--input/--output it also runs the model on X's `input` and compares with Y's `output`.
"""

import argparse
import math
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torchvision
from safetensors import safe_open
from safetensors.torch import load_file, save_file
from torchvision.models.resnet import BasicBlock, conv1x1

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "CNNTrainingTests", "Fixtures")


def simple_convnet(image=28, classes=10):
    """The seeds' SimpleConvNet; keys match CNNKit's `SimpleConvNet` (a `Sequential`)."""
    side = (image - 5 + 1) // 2
    return nn.Sequential(
        nn.Conv2d(1, 30, 5), nn.ReLU(), nn.MaxPool2d(2, 2), nn.Flatten(),
        nn.Linear(30 * side * side, 100), nn.ReLU(), nn.Linear(100, classes))


class TinyResNet(nn.Module):
    """ResNet's layout at a tiny width, from torchvision's BasicBlock."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = nn.Sequential(
            BasicBlock(8, 8),
            BasicBlock(8, 16, stride=2, downsample=nn.Sequential(conv1x1(8, 16, 2), nn.BatchNorm2d(16))))
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(16, 10)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer1(x)
        return self.fc(torch.flatten(self.avgpool(x), 1))


# --- Formula weights: integer hashing, identical in Python and Swift ----------------------

MASK = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15


def fnv1a64(text):
    h = 0xCBF29CE484222325
    for byte in text.encode("utf-8"):
        h = ((h ^ byte) * 0x100000001B3) & MASK
    return h


def formula_tensor(name, shape):
    """Element i of tensor `name`: u = splitmix64(fnv1a64(name) + i·φ) >> 40 / 2²⁴ in [0, 1),
    then by kind: running_var 0.5 + u; running_mean and biases 0.2·u − 0.1; batch-norm
    weights (rank 1) 0.5 + u; other weights (2u − 1)·√(3 / fan_in). In float64, then
    rounded to float32; num_batches_tracked is 0."""
    count = math.prod(shape)
    if name.endswith("num_batches_tracked"):
        return torch.zeros(shape, dtype=torch.int64)
    with np.errstate(over="ignore"):
        x = np.uint64(fnv1a64(name)) + np.arange(count, dtype=np.uint64) * np.uint64(GOLDEN)
        z = x + np.uint64(GOLDEN)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    u = (z >> np.uint64(40)).astype(np.float64) / 16777216.0
    if name.endswith("running_var"):
        v = 0.5 + u
    elif name.endswith("running_mean") or name.endswith("bias"):
        v = 0.2 * u - 0.1
    elif len(shape) == 1:
        v = 0.5 + u
    else:
        v = (2 * u - 1) * math.sqrt(3.0 / math.prod(shape[1:]))
    return torch.from_numpy(v.astype(np.float32).reshape(shape))


# --- Writing ------------------------------------------------------------------------------

def write_simple_convnet():
    torch.manual_seed(0)
    model = simple_convnet(image=12).eval()
    x = torch.rand(2, 1, 12, 12)
    with torch.no_grad():
        y = model(x)
    save_file(model.state_dict(), os.path.join(FIXTURES, "simple-convnet.safetensors"))
    save_file({"input": x, "output": y}, os.path.join(FIXTURES, "simple-convnet-io.safetensors"))


def write_tiny_resnet():
    torch.manual_seed(1)
    model = TinyResNet()
    with torch.no_grad():
        for p in model.parameters():  # non-trivial γ, β and biases
            p.add_(0.1 * torch.randn_like(p))
    model.train()
    with torch.no_grad():
        for _ in range(3):  # running statistics and num_batches_tracked = 3
            model(torch.randn(4, 3, 16, 16) * 2 + 0.5)
    model = model.half().float().eval()  # weights exactly representable in F16
    x = torch.randn(2, 3, 16, 16)
    with torch.no_grad():
        y = model(x)
    state = {k: (v.half() if v.is_floating_point() else v) for k, v in model.state_dict().items()}
    save_file(state, os.path.join(FIXTURES, "tiny-resnet.safetensors"))
    save_file({"input": x, "output": y}, os.path.join(FIXTURES, "tiny-resnet-io.safetensors"))


def write_resnet18():
    model = torchvision.models.resnet18(num_classes=10)
    state = {k: formula_tensor(k, tuple(v.shape)) for k, v in model.state_dict().items()}
    model.load_state_dict(state, strict=True)
    model.eval()
    torch.manual_seed(2)
    x = torch.rand(2, 3, 32, 32)
    with torch.no_grad():
        y = model(x)
    with open(os.path.join(FIXTURES, "resnet18-keys.txt"), "w") as f:
        f.write("# torchvision.models.resnet18(num_classes=10).state_dict(): key, shape\n")
        for k, v in model.state_dict().items():
            f.write(f"{k} {list(v.shape)}\n")
    save_file({"input": x, "output": y}, os.path.join(FIXTURES, "resnet18-io.safetensors"),
              metadata={"model": "torchvision.models.resnet18(num_classes=10)", "weights": "formula_tensor"})


# --- Verifying a file written elsewhere ------------------------------------------------------

def model_for(metadata, state):
    name = metadata.get("model")
    classes = int(metadata.get("class_count", "10"))
    if name == "simple-convnet":
        shape = [int(s) for s in metadata["input_shape"].strip("[]").split(",")]
        return simple_convnet(image=shape[1], classes=classes)
    if name in ("resnet18", "resnet34", "resnet50", "resnet101", "resnet152"):
        return getattr(torchvision.models, name)(num_classes=classes)
    return None


def verify(path, input_path, output_path):
    state = load_file(path)
    with safe_open(path, framework="pt") as f:
        metadata = f.metadata() or {}
    print(f"{path}: {len(state)} tensors")
    print("metadata:")
    for k in sorted(metadata):
        print(f"  {k} = {metadata[k]}")
    print("tensors:")
    for k, v in state.items():
        print(f"  {k:40s} {str(v.dtype):14s} {list(v.shape)}")
    model = model_for(metadata, state)
    if model is None:
        print("no PyTorch model known for this metadata; keys and shapes only")
        return
    weights = {k: v for k, v in state.items() if not k.startswith("optimizer.")}
    result = model.load_state_dict(weights, strict=True)
    print(f"load_state_dict(strict=True) into {type(model).__name__}: {result}")
    if input_path and output_path:
        model.eval()
        x = load_file(input_path)["input"]
        expected = load_file(output_path)["output"]
        with torch.no_grad():
            y = model(x)
        relative = ((y - expected).abs().max() / expected.abs().max()).item()
        print(f"PyTorch logits vs CNNKit's on {list(x.shape)}: max relative difference {relative:.2e}")
        if relative > 1e-4:
            sys.exit("MISMATCH")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--verify", metavar="FILE")
    parser.add_argument("--input", metavar="X")
    parser.add_argument("--output", metavar="Y")
    args = parser.parse_args()
    if args.verify:
        verify(args.verify, args.input, args.output)
        return
    os.makedirs(FIXTURES, exist_ok=True)
    write_simple_convnet()
    write_tiny_resnet()
    write_resnet18()
    for name in sorted(os.listdir(FIXTURES)):
        print(f"{os.path.getsize(os.path.join(FIXTURES, name)):>9,d}  {name}")


if __name__ == "__main__":
    main()
