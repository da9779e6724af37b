"""Refuses to benchmark against a reference (netlib) BLAS: the PyTorch and numpy peers must run an optimized
BLAS, or every ratio we report is meaningless. Debian's python3-torch and python3-numpy reach the BLAS
through the libblas.so.3 alternative, which points at the slow reference BLAS until an optimized one
(libopenblas0-pthread) is installed; the check looks at the libraries the process actually mapped.

Also removes OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE from the environment (call clean_env before the
BLAS loads), so OpenBLAS picks its own kernel and blocking for this CPU.
"""
import os
import sys


def clean_env():
    for var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        os.environ.pop(var, None)


def require_optimized_blas(who):
    """Exits with status 2 when no optimized BLAS (OpenBLAS, MKL, BLIS) is mapped into this process."""
    try:
        with open("/proc/self/maps") as f:
            maps = f.read().lower()
    except OSError:
        return  # not Linux: nothing to check
    if any(name in maps for name in ("openblas", "libmkl", "libblis")):
        return
    if os.environ.get("JTRAIN_ALLOW_REFERENCE_BLAS") == "1":
        print(f"{who}: WARNING: no optimized BLAS loaded (reference BLAS): the peer's figures are not "
              "representative", file=sys.stderr)
        return
    print(f"{who}: no optimized BLAS is loaded (the libblas.so.3 alternative points at the reference BLAS, "
          "tens of times slower): install one (apt-get install libopenblas0-pthread) or set "
          "JTRAIN_ALLOW_REFERENCE_BLAS=1 to measure anyway", file=sys.stderr)
    sys.exit(2)
