#!/usr/bin/env bash
# jtrain's GPU checks and benchmarks, run from a bundle made by bench/scripts/gpu_bundle.sh, on a machine with
# no Java and no network. Every step has a timeout (capped by the budget) and a status in $OUT/summary.txt.
#
#   OUT=/tmp/res ./run.sh                       # JTRAIN_DEVICE=cuda:0 by default
#   JTRAIN_DEVICE=emu OUT=/tmp/res ./run.sh     # the same end to end on the emu (any machine)
#   JTRAIN_BUDGET=420 (seconds for everything, default 480)
#
# Steps: jtrain info; the conformance cases on the device (jtrain check); the JUnit GPU suites on the device
# (every Backend op against the cpu, training parity, memory and faults); 2-epoch training on cpu and device
# with the metrics files; jtrain bench train (cpu vs device; custom and, on cuda, vendor kernels); jtrain bench
# transfer (pinned/pageable copies vs cudaMemcpy); jtrain bench kernels (ours vs cuBLAS/cuDNN). Exit status 0 when every step was OK.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dev=${JTRAIN_DEVICE:-cuda:0}
out=${OUT:-$here/results}
budget=${JTRAIN_BUDGET:-480}
mkdir -p "$out"
summary="$out/summary.txt"
: >"$summary"
start=$(date +%s)
failures=0
java="$here/jre/bin/java"
[ -x "$java" ] || java=java
cp_main="$here/jtrain.jar:$here/lib/*"
jopts=(--add-modules jdk.incubator.vector -Djtrain.root="$here")
export NVIDIA_TF32_OVERRIDE=0

left() { echo $((budget - ($(date +%s) - start))); }
say() { echo "$*" | tee -a "$summary"; }
step() {   # step NAME SECONDS LOG CMD...
  local name=$1 limit=$2 log=$3; shift 3
  local l; l=$(left)
  if [ "$l" -lt 10 ]; then say "SKIP  $name (budget spent)"; failures=$((failures + 1)); return 99; fi
  [ "$limit" -gt "$l" ] && limit=$l
  local t0; t0=$(date +%s)
  timeout --kill-after=5 "$limit" "$@" >"$log" 2>&1
  local rc=$?
  local status=$([ $rc -eq 0 ] && echo "OK  " || ([ $rc -eq 124 ] && echo "TIME" || echo "FAIL"))
  [ $rc -eq 0 ] || failures=$((failures + 1))
  say "$status  $name (rc $rc, $(( $(date +%s) - t0 )) s) -> ${log#$out/}"
  return $rc
}
jtrain=("$java" "${jopts[@]}" -cp "$cp_main" dev.jtrain.cli.Main)   # an array: `timeout` cannot run a function

# cuBLAS/cuDNN as NVIDIA's Python wheels: put site-packages on PYTHONPATH, where native/vendor looks for them.
if command -v python3 >/dev/null; then
  sp=$(python3 -c 'import site; print(":".join(site.getsitepackages() + [site.getusersitepackages()]))' 2>/dev/null)
  [ -n "$sp" ] && export PYTHONPATH="${PYTHONPATH:+$PYTHONPATH:}$sp"
fi

say "jtrain GPU bundle on $dev, $(date -u +%FT%TZ), budget $budget s, results in $out"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader \
  | sed 's/^/GPU: /' | tee -a "$summary"

step "jtrain info" 60 "$out/info.txt" "${jtrain[@]}" info
step "jtrain check --device $dev" 120 "$out/check.txt" "${jtrain[@]}" check --device "$dev" --json "$out/check.json" \
  "$here/tests/conformance/examples" "$here/tests/conformance/generated"
tail -1 "$out/check.txt" | sed 's/^/  /' >>"$summary"

selected=()
while read -r c; do selected+=(--select-class "$c"); done <"$here/gpu-suites.txt"   # written by gpu_bundle.sh
step "JUnit GPU suites on $dev" 240 "$out/junit.txt" "$java" "${jopts[@]}" -Djtrain.test.gpu="$dev" \
  -jar "$here/junit-platform-console-standalone.jar" execute \
  --class-path "$here/tests.jar:$here/jtrain.jar:$(ls "$here"/lib/*.jar | tr '\n' ':')" "${selected[@]}" \
  --reports-dir "$out/junit-reports" --details summary --disable-banner
grep -E 'tests (successful|failed)' "$out/junit.txt" | sed 's/^/  /' >>"$summary"
if [ "${dev%%:*}" = cuda ]; then   # the same parity suites with cuBLAS/cuDNN in place of our kernels
  step "JUnit parity suites on $dev, vendor kernels" 180 "$out/junit-vendor.txt" "$java" "${jopts[@]}" \
    -Djtrain.test.gpu="$dev" -Djtrain.test.kernels=vendor -jar "$here/junit-platform-console-standalone.jar" execute \
    --class-path "$here/tests.jar:$here/jtrain.jar:$(ls "$here"/lib/*.jar | tr '\n' ':')" \
    --select-class dev.jtrain.backend.gpu.GpuBackendParityTest --select-class dev.jtrain.train.TrainingParityTest \
    --reports-dir "$out/junit-vendor-reports" --details summary --disable-banner
  grep -E 'tests (successful|failed)' "$out/junit-vendor.txt" | sed 's/^/  /' >>"$summary"
fi

for d in cpu "$dev"; do
  step "jtrain train --device $d (2 epochs)" 120 "$out/train-$d.txt" "${jtrain[@]}" train --device "$d" --epochs 2 \
    --metrics-out "$out/train-$d.json"
done

kernels=custom
[ "${dev%%:*}" = cuda ] && kernels=custom,vendor
step "jtrain bench train --device cpu,$dev" 180 "$out/bench-train.txt" "${jtrain[@]}" bench train --device "cpu,$dev" \
  --model mlp,cnn --kernels "$kernels" --json "$out/bench-train.json"
sed -n '/^model /,/^host us/p' "$out/bench-train.txt" | sed 's/^/  /' >>"$summary"

tmax=256m
[ "$dev" = emu ] && tmax=64m
step "jtrain bench transfer --device $dev" 120 "$out/bench-transfer.txt" "${jtrain[@]}" bench transfer --device "$dev" \
  --max-size "$tmax" --json "$out/bench-transfer.json"
sed -n '/^size /,/^pinned =/p' "$out/bench-transfer.txt" | sed 's/^/  /' >>"$summary"

kdev=${dev%%:*}
step "jtrain bench kernels --device $kdev" 180 "$out/bench-kernels.txt" "${jtrain[@]}" bench kernels --device "$kdev" \
  --json "$out/bench-kernels.json"

say "done in $(( $(date +%s) - start )) s, $failures step(s) not OK"
[ $failures -eq 0 ]
