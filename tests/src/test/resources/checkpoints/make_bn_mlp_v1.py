#!/usr/bin/env python3
"""Writes bn_mlp_v1.safetensors: the weights file of a checkpoint in the format jtrain wrote before
buffers were a type of their own (and that PyTorch's state_dict has), for
Sequential(Linear(3, 4), BatchNorm1d(4), ReLU(), Linear(4, 2)). Values are i / 8 - 1 for element i of
each float tensor, running_var is 1 + i / 8 (it must stay positive), num_batches_tracked is 7.
Run once; the file is committed (StateDictCompatibilityTest loads it)."""
import json
import pathlib
import struct

TENSORS = [
    ("0.weight", "F32", [4, 3]),
    ("0.bias", "F32", [4]),
    ("1.weight", "F32", [4]),
    ("1.bias", "F32", [4]),
    ("1.running_mean", "F32", [4]),
    ("1.running_var", "F32", [4]),
    ("1.num_batches_tracked", "I64", []),
    ("3.weight", "F32", [2, 4]),
    ("3.bias", "F32", [2]),
]


def values(name, n):
    if name.endswith("running_var"):
        return [1 + i / 8 for i in range(n)]
    return [i / 8 - 1 for i in range(n)]


def main():
    header, data = {}, b""
    for name, dtype, shape in TENSORS:
        n = 1
        for d in shape:
            n *= d
        raw = struct.pack("<q", 7) if dtype == "I64" else struct.pack(f"<{n}f", *values(name, n))
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    header["__metadata__"] = {"format": "pt"}
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    out = pathlib.Path(__file__).with_name("bn_mlp_v1.safetensors")
    out.write_bytes(struct.pack("<Q", len(text)) + text + data)


if __name__ == "__main__":
    main()
