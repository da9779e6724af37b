#!/usr/bin/env python3
"""PyTorch side of the checkpoint interop test (CheckpointTorchTest runs it when torch is installed).

usage: torch_checkpoint.py CASE.json...

Exit status: 0 when every case holds, 1 when one fails, 3 when torch cannot be imported (the caller may try
another Python). Each CASE.json: {"weights": F, "io": G, "layers": [...], "torch_out": H}
  F  a jtrain checkpoint (safetensors, PyTorch names)
  G  safetensors with "x" (an input batch) and "y" (jtrain's eval-mode output for it)
  layers  the nn.Sequential to build: {"type": "Linear", "in", "out", "bias"}, {"type": "Conv2d", "in", "out",
          "kernel", "stride", "padding", "bias"}, {"type": "BatchNorm1d"|"BatchNorm2d", "features"},
          {"type": "MaxPool2d", "kernel", "stride"}, {"type": "ReLU"|"Flatten"|"Identity"}, {"type": "Dropout", "p"}
  H  where to write PyTorch's own state_dict of the model after loading, with "x" and its output "y"
     (jtrain reads it back: the other direction)

Loads F into the model with load_state_dict(strict=True), compares model.eval()(x) with y
(|diff| <= 1e-4 (1 + |y|)), then writes H. Exit status 0 when everything holds; one line per finding.
The safetensors file is parsed here with the standard library and torch.frombuffer (the format is
8-byte little-endian header length, JSON header, raw little-endian data), so the safetensors package is
not needed; when it is installed, its load_file is used too and must agree.
"""
import json
import struct
import sys

try:
    import torch
    from torch import nn
except ImportError as e:
    print("NO_TORCH:", e)
    sys.exit(3)

DTYPES = {"F32": torch.float32, "I64": torch.int64}
NAMES = {torch.float32: "F32", torch.int64: "I64"}


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n].decode("utf-8"))
    header.pop("__metadata__", None)
    out = {}
    for name, e in header.items():
        b, end = e["data_offsets"]
        raw = bytearray(data[8 + n + b: 8 + n + end])
        t = torch.frombuffer(raw, dtype=DTYPES[e["dtype"]]) if raw else torch.empty(0, dtype=DTYPES[e["dtype"]])
        out[name] = t.reshape(e["shape"]).clone()
    return out


def write_safetensors(path, tensors):
    header, chunks, offset = {}, [], 0
    for name, t in tensors.items():
        t = t.detach().contiguous().cpu()
        raw = t.numpy().astype(t.numpy().dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": NAMES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    h = json.dumps(header).encode("utf-8")
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(chunks))


def build(layers):
    mods = []
    for l in layers:
        t = l["type"]
        if t == "Linear":
            mods.append(nn.Linear(l["in"], l["out"], bias=l["bias"]))
        elif t == "Conv2d":
            mods.append(nn.Conv2d(l["in"], l["out"], l["kernel"], stride=l["stride"], padding=l["padding"], bias=l["bias"]))
        elif t == "BatchNorm1d":
            mods.append(nn.BatchNorm1d(l["features"]))
        elif t == "BatchNorm2d":
            mods.append(nn.BatchNorm2d(l["features"]))
        elif t == "MaxPool2d":
            mods.append(nn.MaxPool2d(l["kernel"], l["stride"]))
        elif t == "Dropout":
            mods.append(nn.Dropout(l["p"]))
        else:
            mods.append(getattr(nn, t)())
    return nn.Sequential(*mods)


def main():
    torch.set_grad_enabled(False)
    status = 0
    for path in sys.argv[1:]:
        print("case", path)
        status |= run(json.load(open(path)))
    return status


def run(case):
    model = build(case["layers"])
    state = read_safetensors(case["weights"])
    try:
        import safetensors.torch as st  # optional: the reference reader must agree
        ref = st.load_file(case["weights"])
        assert ref.keys() == state.keys() and all(torch.equal(ref[k], state[k]) for k in ref), "safetensors disagrees"
        print("safetensors package agrees")
    except ImportError:
        pass
    model.load_state_dict(state, strict=True)
    print("load_state_dict(strict=True): ok,", len(state), "tensors")
    io = read_safetensors(case["io"])
    model.eval()
    y = model(io["x"])
    diff = (y - io["y"]).abs()
    bound = 1e-4 * (1 + io["y"].abs())
    print("max |y_torch - y_jtrain| = %.3g" % diff.max().item())
    if not bool((diff <= bound).all()):
        print("FAIL: outputs differ")
        return 1
    sd = model.state_dict()
    out = dict(sd)
    out["x"] = io["x"]
    out["y"] = y
    write_safetensors(case["torch_out"], out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
