#!/usr/bin/env python3
"""PyTorch peer of `jtrain train`: the same network on the same data, timed the same way.

Builds what `jtrain train --model M` builds (PyTorch's default init):
  mlp    Linear(784, h1) [BatchNorm1d] ReLU [Dropout] ... Linear(hk, 10)       (--hidden, default 512,512)
  cnn    Conv2d(1, 32, 3, pad 1) [BN] ReLU MaxPool2d(2) Conv2d(32, 64, 3, pad 1) [BN] ReLU MaxPool2d(2)
         Flatten Linear(3136, 128) ReLU [Dropout] Linear(128, 10)               (--hidden, default 128)
  lenet  Conv2d(1, 6, 5, pad 2) ReLU MaxPool2d(2) Conv2d(6, 16, 5) ReLU MaxPool2d(2) Flatten
         Linear(400, 120) ReLU Linear(120, 84) ReLU Linear(84, 10)
and trains it with SGD (momentum, default 0.9) or Adam, cross-entropy, on an MNIST-layout folder
(default: data/mnist-10k of this project), on the CPU with torch.set_num_threads(--threads). Data handling matches jtrain's: pixels / 255, normalised with the
training set's mean and (population) std, reshuffled every epoch, last partial batch included.
The BLAS is limited to the same thread count (OPENBLAS_NUM_THREADS etc. set before torch loads:
Debian's torch runs its GEMMs in OpenBLAS, which torch.set_num_threads does not limit).
Train loss and accuracy are accumulated as tensors and read once per epoch (like jtrain, which keeps
them on the device), gradients are cleared with set_to_none=True (PyTorch's fastest form).

Timing: each epoch's training loop (gather the batch, forward, loss, backward, step) is timed with
time.perf_counter; evaluation is timed separately. samples_per_sec is total samples / total training
seconds over epochs 2..n (epoch 1 when it is the only one), the definition of jtrain's metrics JSON.

Prints one JSON object (the fields of jtrain's --metrics-out where they apply).
Usage: /usr/bin/python3 bench/scripts/torch_train.py [--model mlp|cnn|lenet] [--threads 1] [--epochs 5]
          [--batch 128] [--optimizer sgd|adam] [--lr 0.01] [--momentum 0.9] [--hidden 512,512]
          [--batchnorm] [--dropout P] [--seed 0] [--data DIR] [--out FILE] [--omp-wait-policy passive|active]
"""
import argparse
import gzip
import json
import os
import struct
import sys
import time

import blas_check


def parse_args(argv):
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.abspath(os.path.join(here, "..", ".."))
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="mlp", choices=["mlp", "cnn", "lenet"])
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--lr", type=float, default=0.01)
    p.add_argument("--momentum", type=float, default=0.9)
    p.add_argument("--optimizer", default="sgd", choices=["sgd", "adam"])
    p.add_argument("--hidden", help="hidden widths (mlp default 512,512; cnn default 128)")
    p.add_argument("--batchnorm", action="store_true", help="BatchNorm after each hidden Linear/conv (mlp, cnn)")
    p.add_argument("--dropout", type=float, default=0.0, help="dropout after each hidden activation (mlp, cnn)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--data", default=os.path.join(root, "data", "mnist-10k"))
    p.add_argument("--omp-wait-policy", default=os.environ.get("OMP_WAIT_POLICY", "passive"),
                   help="OMP_WAIT_POLICY for torch's OpenMP threads (default: passive, see below)")
    p.add_argument("--out", help="also write the JSON to this file")
    return p.parse_args(argv)


def read_idx(path, rank):
    opener = gzip.open if open(path, "rb").read(2) == b"\x1f\x8b" else open
    with opener(path, "rb") as f:
        raw = f.read()
    magic = struct.unpack(">I", raw[:4])[0]
    if magic != 0x0800 | rank:
        raise SystemExit(f"{path}: bad magic number 0x{magic:08x} (expected 0x{0x0800 | rank:08x})")
    dims = struct.unpack(">" + "I" * rank, raw[4:4 + 4 * rank])
    return dims, raw[4 + 4 * rank:]


def find(data, prefix, kind, rank):
    for name in (f"{prefix}-{kind}-idx{rank}-ubyte.gz", f"{prefix}-{kind}-idx{rank}-ubyte"):
        p = os.path.join(data, name)
        if os.path.exists(p):
            return p
    raise SystemExit(f"{data}: no {prefix}-{kind}-idx{rank}-ubyte(.gz)")


def load(torch, data, prefix):
    dims, px = read_idx(find(data, prefix, "images", 3), 3)
    _, lb = read_idx(find(data, prefix, "labels", 1), 1)
    n = dims[0]
    x = torch.frombuffer(bytearray(px), dtype=torch.uint8).reshape(n, dims[1] * dims[2]).to(torch.float32) / 255.0
    y = torch.frombuffer(bytearray(lb), dtype=torch.uint8).to(torch.int64)
    return x, y


def build(nn, args):
    """The network of `jtrain train --model M` (train/Models.java), and its architecture string."""
    def hidden_block(layers, norm, width):
        if args.batchnorm:
            layers.append(norm(width))
        layers.append(nn.ReLU())
    if args.model == "mlp":
        sizes = [784] + [int(h) for h in (args.hidden or "512,512").split(",")] + [10]
        layers = []
        for i in range(len(sizes) - 1):
            layers.append(nn.Linear(sizes[i], sizes[i + 1]))
            if i < len(sizes) - 2:
                hidden_block(layers, nn.BatchNorm1d, sizes[i + 1])
                if args.dropout > 0:
                    layers.append(nn.Dropout(args.dropout))
        return nn.Sequential(*layers), "mlp " + "-".join(str(s) for s in sizes)
    if args.model == "cnn":
        layers = [nn.Conv2d(1, 32, 3, padding=1)]
        hidden_block(layers, nn.BatchNorm2d, 32)
        layers += [nn.MaxPool2d(2), nn.Conv2d(32, 64, 3, padding=1)]
        hidden_block(layers, nn.BatchNorm2d, 64)
        layers += [nn.MaxPool2d(2), nn.Flatten()]
        prev = 64 * 7 * 7
        widths = [int(h) for h in (args.hidden or "128").split(",")]
        for h in widths:
            layers += [nn.Linear(prev, h), nn.ReLU()]
            if args.dropout > 0:
                layers.append(nn.Dropout(args.dropout))
            prev = h
        layers.append(nn.Linear(prev, 10))
        return nn.Sequential(*layers), "cnn conv32-conv64-" + "-".join(map(str, widths)) + "-10"
    if args.batchnorm or args.dropout > 0:
        raise SystemExit("--batchnorm/--dropout apply to mlp and cnn (as in jtrain)")
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10)), "lenet conv6-conv16-120-84-10"


def main(argv):
    args = parse_args(argv)
    # Debian's torch does its GEMMs in OpenBLAS (pthreads build), whose thread count
    # torch.set_num_threads does not change: without these variables a "1-thread" run uses every
    # core for its GEMMs and a 2-thread run oversubscribes. They must be set before torch loads.
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(args.threads)
    # With OpenMP's default (active) waiting, torch's idle OpenMP threads spin against OpenBLAS's
    # threads: on a 2-core host a 2-thread run fell to 6-14k samples/s; passive waiting gave 39-40k
    # (1 thread: the same either way). So passive is torch's best setting here and the default.
    if args.omp_wait_policy:
        os.environ["OMP_WAIT_POLICY"] = args.omp_wait_policy.upper()
    blas_check.clean_env()
    import torch
    import torch.nn as nn
    torch.zeros(2, 2) @ torch.zeros(2, 2)  # loads the BLAS
    blas_check.require_optimized_blas("torch_train.py")

    torch.set_num_threads(args.threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass
    torch.manual_seed(args.seed)

    xtr, ytr = load(torch, args.data, "train")
    xte, yte = load(torch, args.data, "t10k")
    mean = xtr.double().mean().item()
    std = xtr.double().std(unbiased=False).item()
    xtr = ((xtr - mean) / std).contiguous()
    xte = ((xte - mean) / std).contiguous()

    model, arch = build(nn, args)
    if args.optimizer == "adam":
        opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    else:
        opt = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=args.momentum)
    if args.model != "mlp":  # the image models take [N, 1, 28, 28]
        xtr = xtr.reshape(-1, 1, 28, 28).contiguous()
        xte = xte.reshape(-1, 1, 28, 28).contiguous()
    loss_fn = nn.CrossEntropyLoss()
    gen = torch.Generator().manual_seed(args.seed)

    n = xtr.shape[0]
    history = []
    for epoch in range(1, args.epochs + 1):
        model.train()
        t0 = time.perf_counter()
        perm = torch.randperm(n, generator=gen)
        loss_sum = torch.zeros((), dtype=torch.float32)
        correct = torch.zeros((), dtype=torch.int64)
        for s in range(0, n, args.batch):
            idx = perm[s:s + args.batch]
            xb = xtr.index_select(0, idx)
            yb = ytr.index_select(0, idx)
            opt.zero_grad(set_to_none=True)
            out = model(xb)
            loss = loss_fn(out, yb)
            loss.backward()
            opt.step()
            with torch.no_grad():
                loss_sum += loss.detach() * xb.shape[0]
                correct += (out.argmax(1) == yb).sum()
        train_loss = loss_sum.item() / n
        train_acc = correct.item() / n
        seconds = time.perf_counter() - t0

        model.eval()
        e0 = time.perf_counter()
        with torch.no_grad():
            test_correct = 0
            test_loss = 0.0
            for s in range(0, xte.shape[0], args.batch):
                out = model(xte[s:s + args.batch])
                yb = yte[s:s + args.batch]
                test_loss += loss_fn(out, yb).item() * yb.shape[0]
                test_correct += (out.argmax(1) == yb).sum().item()
        eval_seconds = time.perf_counter() - e0
        history.append({
            "epoch": epoch, "train_loss": train_loss, "train_accuracy": train_acc,
            "test_loss": test_loss / xte.shape[0], "test_accuracy": test_correct / xte.shape[0],
            "samples_per_sec": n / seconds, "seconds": seconds, "eval_seconds": eval_seconds,
        })
        print(f"epoch {epoch}/{args.epochs}  train loss {train_loss:.4f}  train acc {100 * train_acc:6.2f}%  "
              f"test acc {100 * history[-1]['test_accuracy']:6.2f}%  {n / seconds:9.0f} samples/s  {seconds:7.2f} s",
              file=sys.stderr)

    steady = history[1:] if len(history) > 1 else history
    sps = sum(n for _ in steady) / sum(h["seconds"] for h in steady)
    result = {
        "impl": "pytorch", "torch": torch.__version__, "device": "cpu", "model": args.model,
        "architecture": arch, "epochs": args.epochs, "batch": args.batch,
        "threads": torch.get_num_threads(), "optimizer": args.optimizer, "lr": args.lr,
        "momentum": args.momentum if args.optimizer == "sgd" else None, "batchnorm": args.batchnorm, "dropout": args.dropout,
        "seed": args.seed, "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY"), "train_samples": n, "test_samples": int(xte.shape[0]),
        "test_accuracy": history[-1]["test_accuracy"], "final_train_loss": history[-1]["train_loss"],
        "samples_per_sec": sps, "history": history,
    }
    text = json.dumps(result)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text + "\n")
    print(text)


if __name__ == "__main__":
    main(sys.argv[1:])
