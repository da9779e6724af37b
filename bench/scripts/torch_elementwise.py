#!/usr/bin/env python3
"""PyTorch peer of bench/.../jmh/ElementwiseBenchmark: the same element-wise ops at the same shapes.

Times (microseconds per call, median of 7 runs of a timed loop after warm-up) ReLU forward and backward,
the bias add, dropout forward (mask drawn and applied), an SGD-momentum step and an Adam step, at 128x512
and 128x32x28x28, with torch.set_num_threads(--threads) (and the BLAS/OpenMP variables set to the same
count before torch loads). Ops are written the way nn.ReLU, nn.Linear/Conv2d's bias, nn.Dropout and
torch.optim (foreach=False, the 1.13 default on CPU) run them. Prints a table and, with --out, JSON.
Usage: /usr/bin/python3 bench/scripts/torch_elementwise.py [--threads 1] [--out FILE]
"""
import argparse
import json
import os
import statistics
import time


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out")
    args = p.parse_args()
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(args.threads)
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    import torch
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    rows = []
    for shape in ((128, 512), (128, 32, 28, 28)):
        x = torch.randn(shape)
        dy = torch.randn(shape)
        y = torch.empty(shape)
        bias = torch.randn(shape[1])
        bshape = (1, shape[1]) + (1,) * (len(shape) - 2)
        param = torch.nn.Parameter(torch.randn(shape))
        param.grad = torch.randn(shape)
        sgd = torch.optim.SGD([param], lr=1e-6, momentum=0.9)
        sgd.step()  # creates the momentum buffer
        adam = torch.optim.Adam([param], lr=1e-6)
        relu_out = torch.relu(x)
        ops = {
            "reluForward": lambda: torch.nn.functional.relu(x),
            "reluBackward": lambda: torch.ops.aten.threshold_backward(dy, relu_out, 0.0),
            "addBias": lambda: y.add_(bias.view(bshape)),
            "dropoutForward": lambda: torch.nn.functional.dropout(x, 0.5, True),
            "sgdMomentumStep": sgd.step,
            "adamStep": adam.step,
        }
        name = "x".join(map(str, shape))
        for op, fn in ops.items():
            for _ in range(20):
                fn()
            reps = max(5, int(2e7 // x.numel()))
            times = []
            for _ in range(7):
                t0 = time.perf_counter()
                for _ in range(reps):
                    fn()
                times.append((time.perf_counter() - t0) / reps * 1e6)
            rows.append({"op": op, "shape": name, "us": statistics.median(times)})
            print(f"{op:>16}  {name:>14}  {statistics.median(times):10.1f} us")
    if args.out:
        with open(args.out, "w") as f:
            json.dump({"torch": torch.__version__, "threads": args.threads, "rows": rows}, f, indent=1)


if __name__ == "__main__":
    main()
