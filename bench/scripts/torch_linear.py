#!/usr/bin/env python3
"""PyTorch peer of bench/.../jmh/LinearBenchmark: one nn.Linear at batch 1 and 8, forward alone and
forward + backward (zero_grad, forward, backward with the input requiring a gradient).

Microseconds per call, median of 7 timed loops after warm-up, torch.set_num_threads(--threads) (and the
BLAS/OpenMP variables set to the same count before torch loads).
Usage: /usr/bin/python3 bench/scripts/torch_linear.py [--threads 1] [--out FILE]
"""
import argparse
import json
import os
import statistics
import time

import blas_check


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out")
    args = p.parse_args()
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(args.threads)
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    blas_check.clean_env()
    import torch
    torch.zeros(2, 2) @ torch.zeros(2, 2)  # loads the BLAS
    blas_check.require_optimized_blas("torch_linear.py")
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    rows = []
    for (fan_in, fan_out) in ((784, 512), (16, 16)):
        lin = torch.nn.Linear(fan_in, fan_out)
        for batch in (1, 8):
            x = torch.randn(batch, fan_in, requires_grad=True)
            dy = torch.randn(batch, fan_out)

            def forward():
                with torch.no_grad():
                    return lin(x)

            def forward_backward():
                lin.zero_grad(set_to_none=False)
                x.grad = None
                lin(x).backward(dy)

            for op, fn in (("forward", forward), ("forwardBackward", forward_backward)):
                for _ in range(200):
                    fn()
                reps = 2000
                times = []
                for _ in range(7):
                    t0 = time.perf_counter()
                    for _ in range(reps):
                        fn()
                    times.append((time.perf_counter() - t0) / reps * 1e6)
                name = f"{fan_in}x{fan_out}"
                rows.append({"op": op, "layer": name, "batch": batch, "us": statistics.median(times)})
                print(f"{op:>16}  {name:>8}  batch {batch}  {statistics.median(times):9.2f} us")
    if args.out:
        with open(args.out, "w") as f:
            json.dump({"torch": torch.__version__, "threads": args.threads, "rows": rows}, f, indent=1)


if __name__ == "__main__":
    main()
