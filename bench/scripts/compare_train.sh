#!/usr/bin/env bash
# Training throughput of jtrain against PyTorch (CPU) on the same network and recipe, measured in one run:
# `jtrain train --model M` and bench/scripts/torch_train.py (the same net in PyTorch, default init) on the
# bundled data/mnist-10k, samples/s over epochs 2..n, the same thread count on both sides. Runs are
# interleaved (jtrain, torch, jtrain, ...) and repeated, each in a fresh process, so a machine shared with
# other work affects both sides alike; the table shows per thread count the median and the slowest run of
# each side and the ratios (jtrain / torch) of the medians and of the slowest runs, and jtrain's heap allocation per
# step, run by run: a run far above the others of its cell ran boxed vector code (README, "Boxed JVMs").
#
#   bench/scripts/compare_train.sh [--model mlp|cnn|lenet] [--threads "1 2"] [--reps 3] [--epochs 5]
#       [--batch 128] [--optimizer sgd|adam] [--lr X] [--hidden N,N] [--batchnorm] [--dropout P] [--out DIR]
#       [--pin CPU]
#
# --pin CPU runs the one-thread runs of both sides on that CPU (taskset -c CPU). On a shared VM the vCPUs' speeds
# differ and change with what the host runs beside them (README, "Where the run-to-run spread comes from"): an
# unpinned run gets whichever it lands on, so pinned, interleaved runs compare the two sides on the same vCPU.
#
# Defaults: the issue's benchmark recipe, SGD momentum 0.9, lr 0.01 (adam: 0.001), batch 128, no dropout,
# no lr decay (jtrain's per-model recipes are not used: both sides get every setting explicitly).
# Environment: JTRAIN (default: ./jtrain of this checkout) is the command that runs `jtrain`, e.g.
#   JTRAIN="java --add-modules jdk.incubator.vector -cp ... dev.jtrain.cli.Main" to skip the launcher;
#   PYTHON (default /usr/bin/python3, which has Debian's python3-torch 1.13).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
model=mlp
threads="1 2"
reps=3
epochs=5
batch=128
optimizer=sgd
lr=""
hidden=""
batchnorm=0
dropout=0
out=""
pin=""
while [ $# -gt 0 ]; do
  case "$1" in
    --model) model=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --reps) reps=$2; shift 2 ;;
    --epochs) epochs=$2; shift 2 ;;
    --batch) batch=$2; shift 2 ;;
    --optimizer) optimizer=$2; shift 2 ;;
    --lr) lr=$2; shift 2 ;;
    --hidden) hidden=$2; shift 2 ;;
    --batchnorm) batchnorm=1; shift ;;
    --dropout) dropout=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --pin) pin=$2; shift 2 ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    *) echo "compare_train.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
case "$model" in mlp|cnn|lenet) ;; *) echo "compare_train.sh: --model must be mlp, cnn or lenet, got '$model'" >&2; exit 2 ;; esac
case "$optimizer" in sgd|adam) ;; *) echo "compare_train.sh: --optimizer must be sgd or adam, got '$optimizer'" >&2; exit 2 ;; esac
[ "$epochs" -ge 2 ] || { echo "compare_train.sh: --epochs must be >= 2 (epoch 1 is warm-up)" >&2; exit 2; }
[ -n "$lr" ] || { [ "$optimizer" = adam ] && lr=0.001 || lr=0.01; }
jtrain=${JTRAIN:-"$root/jtrain"}
python=${PYTHON:-/usr/bin/python3}
"$python" -c 'import torch' 2>/dev/null || { echo "compare_train.sh: $python cannot import torch (apt-get install python3-torch)" >&2; exit 2; }
[ -n "$out" ] || out=$(mktemp -d /tmp/compare_train.XXXXXX)
mkdir -p "$out"

common=(--epochs "$epochs" --batch "$batch" --optimizer "$optimizer" --lr "$lr" --seed 0 --dropout "$dropout")
[ "$optimizer" = sgd ] && common+=(--momentum 0.9)
[ -n "$hidden" ] && common+=(--hidden "$hidden")
[ "$batchnorm" = 1 ] && common+=(--batchnorm)
if [ -n "$pin" ]; then
  command -v taskset >/dev/null || { echo "compare_train.sh: --pin needs taskset (apt-get install util-linux)" >&2; exit 2; }
  taskset -c "$pin" true 2>/dev/null || { echo "compare_train.sh: --pin $pin: no such CPU here" >&2; exit 2; }
fi
for rep in $(seq 1 "$reps"); do
  for t in $threads; do
    run=()
    [ -n "$pin" ] && [ "$t" = 1 ] && run=(taskset -c "$pin")
    echo "rep $rep/$reps, $t thread(s): jtrain $model" >&2
    "${run[@]}" $jtrain train --model "$model" "${common[@]}" --lr-decay none --threads "$t" --quiet \
      --metrics-out "$out/jtrain-t$t-r$rep.json" >/dev/null
    echo "rep $rep/$reps, $t thread(s): pytorch $model" >&2
    "${run[@]}" "$python" "$root/bench/scripts/torch_train.py" --model "$model" "${common[@]}" --threads "$t" \
      --out "$out/torch-t$t-r$rep.json" >/dev/null 2>&1
  done
done

"$python" - "$out" "$threads" "$reps" "$model" <<'PY'
import json, os, statistics, sys
out, threads, reps, model = sys.argv[1], sys.argv[2].split(), int(sys.argv[3]), sys.argv[4]
def load(side, t):
    vals, accs, allocs = [], [], []
    for r in range(1, reps + 1):
        with open(os.path.join(out, f"{side}-t{t}-r{r}.json")) as f:
            d = json.load(f)
        vals.append(d["samples_per_sec"]); accs.append(d["test_accuracy"]); allocs.append(d.get("alloc_bytes_per_step"))
    return vals, accs, allocs
print(f"model {model}")
print(f"{'threads':>7}  {'jtrain median':>13}  {'torch median':>12}  {'ratio':>6}  {'ratio slowest':>13}  "
      f"{'jtrain acc':>10}  {'torch acc':>9}  runs (samples/s)")
rows = []
for t in threads:
    j, ja, jalloc = load("jtrain", t)
    p, pa, _ = load("torch", t)
    ratio = statistics.median(j) / statistics.median(p)
    slowest = min(j) / min(p)
    rows.append({"model": model, "threads": int(t), "jtrain": j, "pytorch": p, "ratio": ratio, "ratio_slowest": slowest,
                 "jtrain_alloc_bytes_per_step": jalloc})
    print(f"{t:>7}  {statistics.median(j):>13.0f}  {statistics.median(p):>12.0f}  {ratio:>6.2f}  {slowest:>13.2f}  "
          f"{statistics.median(ja):>10.4f}  {statistics.median(pa):>9.4f}  "
          f"jtrain {' '.join(f'{v:.0f}' for v in j)} / torch {' '.join(f'{v:.0f}' for v in p)}")
# Heap allocated per training step (ThreadMXBean; it also counts the layer buffers reallocated when training and
# evaluation alternate batch sizes, large for conv models): a run far above the others of its cell ran boxed vector
# code (README, "Boxed JVMs"), so its speed is not the code's.
for row in rows:
    allocs = ["?" if a is None else f"{a / 1e6:.2f}" for a in row["jtrain_alloc_bytes_per_step"]]
    print(f"jtrain MB allocated per step, {row['threads']} thread(s): {' '.join(allocs)}")
with open(os.path.join(out, "summary.json"), "w") as f:
    json.dump(rows, f, indent=1)
print(f"(runs in {out})")
PY
