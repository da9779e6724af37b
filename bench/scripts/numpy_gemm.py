#!/usr/bin/env python3
"""SGEMM peer benchmark: the same workload as dev.jtrain.bench.GemmBenchmark, run by numpy (OpenBLAS).

Prints one JSON object per line with the fields of GemmBenchmark's rows:
  {"impl": "numpy", "m": 128, "n": 512, "k": 784, "threads": 1, "transpose": "nt", "gflops_median": ..., "gflops_max": ...}

Usage: /usr/bin/python3 bench/scripts/numpy_gemm.py [--sizes 256,512,1024,2048] [--shapes MxNxK[:op],...]
           [--threads 1] [--transpose nn,nt,tn] [--warmup-s 0.5] [--reps 9] [--min-rep-s 0.05]

The BLAS thread count is fixed when numpy loads OpenBLAS, so each --threads value runs in its own
child process with OPENBLAS_NUM_THREADS set before numpy is imported (OPENBLAS_CORETYPE and
OPENBLAS_L2_SIZE are removed so OpenBLAS picks its own kernel for this CPU).

Workload (as in GemmBenchmark): C [m x n] = A' B', float32, every operand C-contiguous (row-major) in its
own layout (A m x k, or k x m when transposed; B k x n, or n x k). A square size n is n x n x n; a shape
MxNxK:op carries its own transpose, otherwise each of --transpose runs. "nt" means B is used transposed,
"tn" A, "tt" both; the transposed operand is passed to numpy as a transposed view, which numpy hands to
sgemm as a transpose flag (no copy). GFLOP/s = 2 m n k / time. Each timed repetition runs the product enough times to last at least
--min-rep-s; we report the median and the best repetition.
"""
import argparse
import json
import os
import subprocess
import sys
import time


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", default="")
    p.add_argument("--shapes", default="")
    p.add_argument("--threads", default="1", help="comma-separated thread counts")
    p.add_argument("--transpose", default="nn,nt,tn")
    p.add_argument("--warmup-s", type=float, default=0.5)
    p.add_argument("--reps", type=int, default=9)
    p.add_argument("--min-rep-s", type=float, default=0.05)
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    return p.parse_args(argv)


def run_child(args):
    import numpy as np  # imported only here, after the environment is set

    threads = int(os.environ["OPENBLAS_NUM_THREADS"])
    rng = np.random.default_rng(1234)
    work = [(int(s), int(s), int(s), None) for s in args.sizes.split(",") if s.strip()]
    for s in [x for x in args.shapes.split(",") if x.strip()]:
        dims, _, op = s.strip().lower().partition(":")
        m, n, k = (int(v) for v in dims.split("x"))
        work.append((m, n, k, op or None))
    if not work:
        work = [(n, n, n, None) for n in (256, 512, 1024, 2048)]
    for ti, t in enumerate(args.transpose.split(",")):
        t = t.strip().lower()
        for m, n, k, own in work:
            if own is not None and ti > 0:
                continue
            t_ = own or t
            a = rng.standard_normal((k, m) if t_[0] == "t" else (m, k), dtype=np.float32)
            b = rng.standard_normal((n, k) if t_[1] == "t" else (k, n), dtype=np.float32)
            c = np.empty((m, n), dtype=np.float32)
            opa = a.T if t_[0] == "t" else a
            opb = b.T if t_[1] == "t" else b
            np.matmul(opa, opb, out=c)
            # warm-up, and find how many products make one repetition
            inner = 1
            start = time.perf_counter()
            while True:
                t0 = time.perf_counter()
                for _ in range(inner):
                    np.matmul(opa, opb, out=c)
                dt = time.perf_counter() - t0
                if time.perf_counter() - start >= args.warmup_s and dt >= args.min_rep_s:
                    break
                if dt < args.min_rep_s:
                    inner = max(inner * 2, int(inner * args.min_rep_s / max(dt, 1e-9)) + 1)
            rates = []
            for _ in range(args.reps):
                t0 = time.perf_counter()
                for _ in range(inner):
                    np.matmul(opa, opb, out=c)
                dt = time.perf_counter() - t0
                rates.append(2.0 * m * n * k * inner / dt / 1e9)
            rates.sort()
            row = {"impl": "numpy", "m": m, "n": n, "k": k, "threads": threads, "transpose": t_,
                   "gflops_median": round(rates[len(rates) // 2], 2),
                   "gflops_max": round(rates[-1], 2)}
            print(json.dumps(row), flush=True)


def main(argv):
    args = parse_args(argv)
    if args.child:
        run_child(args)
        return 0
    rc = 0
    for th in [int(s) for s in args.threads.split(",")]:
        env = dict(os.environ)
        env.pop("OPENBLAS_CORETYPE", None)
        env.pop("OPENBLAS_L2_SIZE", None)
        env["OPENBLAS_NUM_THREADS"] = str(th)
        env["OMP_NUM_THREADS"] = str(th)
        child = [sys.executable, os.path.abspath(__file__), "--child"] + argv
        rc |= subprocess.call(child, env=env)
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
