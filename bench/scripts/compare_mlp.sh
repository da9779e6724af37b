#!/usr/bin/env bash
# Training throughput of jtrain against PyTorch (CPU) on the benchmark MLP, measured in one run:
# 784-512-512-10 ReLU, SGD momentum 0.9 lr 0.01, batch 128, the bundled data/mnist-10k, samples/s over
# epochs 2..n, the same thread count on both sides. Runs are interleaved (jtrain, torch, jtrain, ...)
# and repeated, so a machine shared with other work affects both sides alike; the table shows the
# median of each side per thread count and the ratio of the medians (jtrain / torch).
#
#   bench/scripts/compare_mlp.sh [--threads "1 2"] [--reps 3] [--epochs 5] [--out DIR]
#
# Environment: JTRAIN (default: ./jtrain of this checkout) is the command that runs `jtrain`, e.g.
#   JTRAIN="java --add-modules jdk.incubator.vector -cp ... dev.jtrain.cli.Main" to skip the launcher;
#   PYTHON (default /usr/bin/python3, which has Debian's python3-torch 1.13).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
threads="1 2"
reps=3
epochs=5
out=""
while [ $# -gt 0 ]; do
  case "$1" in
    --threads) threads=$2; shift 2 ;;
    --reps) reps=$2; shift 2 ;;
    --epochs) epochs=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "compare_mlp.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[ "$epochs" -ge 2 ] || { echo "compare_mlp.sh: --epochs must be >= 2 (epoch 1 is warm-up)" >&2; exit 2; }
jtrain=${JTRAIN:-"$root/jtrain"}
python=${PYTHON:-/usr/bin/python3}
"$python" -c 'import torch' 2>/dev/null || { echo "compare_mlp.sh: $python cannot import torch (apt-get install python3-torch)" >&2; exit 2; }
[ -n "$out" ] || out=$(mktemp -d /tmp/compare_mlp.XXXXXX)
mkdir -p "$out"

common=(--epochs "$epochs" --batch 128 --lr 0.01 --momentum 0.9 --seed 0)
for rep in $(seq 1 "$reps"); do
  for t in $threads; do
    echo "rep $rep/$reps, $t thread(s): jtrain" >&2
    $jtrain train --model mlp --hidden 512,512 --optimizer sgd "${common[@]}" --threads "$t" --quiet \
      --metrics-out "$out/jtrain-t$t-r$rep.json" >/dev/null
    echo "rep $rep/$reps, $t thread(s): pytorch" >&2
    "$python" "$root/bench/scripts/torch_mlp.py" --hidden 512,512 "${common[@]}" --threads "$t" \
      --out "$out/torch-t$t-r$rep.json" >/dev/null 2>&1
  done
done

"$python" - "$out" "$threads" "$reps" <<'PY'
import json, os, statistics, sys
out, threads, reps = sys.argv[1], sys.argv[2].split(), int(sys.argv[3])
def load(side, t):
    vals, accs = [], []
    for r in range(1, reps + 1):
        with open(os.path.join(out, f"{side}-t{t}-r{r}.json")) as f:
            d = json.load(f)
        vals.append(d["samples_per_sec"]); accs.append(d["test_accuracy"])
    return vals, accs
print(f"{'threads':>7}  {'jtrain samples/s':>17}  {'pytorch samples/s':>17}  {'ratio':>6}  {'jtrain acc':>10}  {'torch acc':>9}  runs")
rows = []
for t in threads:
    j, ja = load("jtrain", t)
    p, pa = load("torch", t)
    ratio = statistics.median(j) / statistics.median(p)
    rows.append({"threads": int(t), "jtrain": j, "pytorch": p, "ratio": ratio})
    print(f"{t:>7}  {statistics.median(j):>17.0f}  {statistics.median(p):>17.0f}  {ratio:>6.2f}  "
          f"{statistics.median(ja):>10.4f}  {statistics.median(pa):>9.4f}  "
          f"jtrain {' '.join(f'{v:.0f}' for v in j)} / torch {' '.join(f'{v:.0f}' for v in p)}")
with open(os.path.join(out, "summary.json"), "w") as f:
    json.dump(rows, f, indent=1)
print(f"(runs in {out})")
PY
