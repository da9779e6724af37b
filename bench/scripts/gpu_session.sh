#!/usr/bin/env bash
# The one script a session with a GPU runs, from the repository root, within a time budget (the device gives
# 15 minutes in all, start-up included): builds the native tests and bench_kernels against the real CUDA
# runtime, runs CTest on the GPU, bench_kernels (ours vs cuBLAS/cuDNN and vs copy bandwidth, --json),
# compute-sanitizer memcheck and racecheck on each test binary where the tool exists, and, when a Java
# runtime was carried along, `jtrain bench kernels --device cuda`. Everything lands in $OUT (or ./gpu-out);
# $OUT/summary.txt says what ran, what passed and where each log is.
#
#   bench/scripts/gpu_session.sh                    # budget 480 s for the whole script
#   JTRAIN_GPU_BUDGET=300 bench/scripts/gpu_session.sh
#
# The GPU machine has nvcc, cmake, PyTorch and cuBLAS/cuDNN as NVIDIA's Python wheels (site-packages/nvidia/*/lib,
# found by native/vendor through PYTHONPATH, set below), compute-sanitizer on some hosts, and NO Java and no network.
# For the Java part, build and carry these from a machine with a JDK 17 (the run tool's `carry`, 64 MiB in all):
#   mvn -B -q -pl cli -am -DskipTests package   # java/target/jtrain-core-*.jar, cli/target/jtrain-cli-*.jar + cli/target/lib
#   jdeps --ignore-missing-deps --print-module-deps --multi-release 17 \
#         -cp 'cli/target/lib/*' java/target/jtrain-core-0.1.0-SNAPSHOT.jar cli/target/jtrain-cli-0.1.0-SNAPSHOT.jar
#   jlink --add-modules "$(that list),jdk.incubator.vector" --strip-debug --no-man-pages --compress=2 --output jre
# (today: java.base,java.desktop,java.sql,jdk.incubator.vector,jdk.management; ~51 MB, + jar 6.5 MB + lib 3.2 MB;
# keep the header files: jre/include/jni.h lets CMake build the JNI library for this GPU here), then carry
# jre, the two jars and cli/target/lib. The script uses ./jre (or $JTRAIN_JAVA_HOME).
# Exit status: 0 when every step was OK (summary.txt lists each step: OK, FAIL, TIME or SKIP).
set -uo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
out=${OUT:-$root/gpu-out}
mkdir -p "$out"
budget=${JTRAIN_GPU_BUDGET:-480}
start=$(date +%s)
build=${JTRAIN_GPU_BUILD:-$root/build-gpu}
summary="$out/summary.txt"
: >"$summary"
failures=0

left() { echo $((budget - ($(date +%s) - start))); }
say() { echo "$*" | tee -a "$summary"; }
# step NAME SECONDS LOG CMD...: runs CMD with a timeout (capped by the budget left), logs, records the status.
step() {
  local name=$1 limit=$2 log=$3; shift 3
  local l; l=$(left)
  if [ "$l" -lt 15 ]; then say "SKIP  $name (budget spent)"; failures=$((failures + 1)); return 99; fi
  [ "$limit" -gt "$l" ] && limit=$l
  local t0; t0=$(date +%s)
  timeout --kill-after=5 "$limit" "$@" >"$log" 2>&1
  local rc=$?
  local status=$([ $rc -eq 0 ] && echo "OK  " || ([ $rc -eq 124 ] && echo "TIME" || echo "FAIL"))
  [ $rc -eq 0 ] || failures=$((failures + 1))
  say "$status  $name (rc $rc, $(( $(date +%s) - t0 )) s) -> ${log#$out/}"
  return $rc
}

say "jtrain GPU session $(date -u +%FT%TZ), budget ${budget} s, out $out"

# ---- environment: the GPU, the toolchain, where the vendor libraries are
export NVIDIA_TF32_OVERRIDE=0   # belt and braces: FP32 stays FP32 in cuBLAS/cuDNN whatever their math mode
py=$(command -v python3 || true)
if [ -n "$py" ]; then
  sp=$("$py" -c 'import site, sys; print(":".join(site.getsitepackages() + [site.getusersitepackages()]))' 2>/dev/null)
  [ -n "$sp" ] && export PYTHONPATH="${PYTHONPATH:+$PYTHONPATH:}$sp"
fi
{
  echo "== nvidia-smi"; nvidia-smi 2>&1 | head -20
  echo "== nvcc"; nvcc --version 2>&1 | tail -2
  echo "== cmake"; cmake --version 2>&1 | head -1
  echo "== compute-sanitizer"; (command -v compute-sanitizer || ls /usr/local/cuda/bin/compute-sanitizer) 2>&1
  echo "== PYTHONPATH=${PYTHONPATH:-}"
  echo "== vendor wheels"
  IFS=: read -ra dirs <<<"${PYTHONPATH:-}"
  for d in "${dirs[@]}"; do ls -d "$d"/nvidia/*/lib 2>/dev/null; done
  echo "== torch"; [ -n "$py" ] && "$py" -c 'import torch; print(torch.__version__, torch.version.cuda, torch.backends.cudnn.version())' 2>&1
} >"$out/env.txt" 2>&1
cc=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | head -1 | tr -d ' .')
[ -n "$cc" ] || cc=90
say "GPU: $(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null | head -1) (sm_$cc)"

# ---- Java carried along? (then the JNI library is built here too)
java_home=${JTRAIN_JAVA_HOME:-$root/jre}
core_jar=$(ls "$root"/java/target/jtrain-core-*.jar 2>/dev/null | head -1)
cli_jar=$(ls "$root"/cli/target/jtrain-cli-*.jar 2>/dev/null | head -1)
jar="$cli_jar:$core_jar"
have_java=0
if [ -x "$java_home/bin/java" ] && [ -n "$core_jar" ] && [ -n "$cli_jar" ] && [ -d "$root/cli/target/lib" ]; then have_java=1; fi
say "Java: $([ $have_java = 1 ] && echo "$java_home, $jar" || echo "not carried (no $java_home/bin/java or no jar): Java part skipped")"

# ---- build: the kernels for this GPU only, the CUDA tests and bench_kernels (no emu, no ASan)
targets=(jtrain_cuda_checks)
cmake_args=(-S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DJTRAIN_NATIVE_TESTS=OFF
            -DJTRAIN_CUDA_TESTS=ON -DJTRAIN_CUDA_BENCH=ON -DCMAKE_CUDA_ARCHITECTURES="$cc")
if [ $have_java = 1 ]; then
  cmake_args+=(-DJAVA_HOME="$java_home")
  targets+=(jtrain_cuda)
fi
step "cmake configure" 120 "$out/cmake.log" cmake "${cmake_args[@]}" || { say "cannot configure: see cmake.log"; exit 1; }
step "build ${targets[*]}" 300 "$out/build.log" cmake --build "$build" -j"$(nproc)" --target "${targets[@]}" \
  || { tail -30 "$out/build.log" >>"$summary"; exit 1; }

# ---- CTest on the GPU (the kernel tests against float64 references)
step "ctest -L cuda" 180 "$out/ctest.log" ctest --test-dir "$build" -L cuda --output-on-failure -j4 --timeout 120
grep -E 'tests passed|tests failed' "$out/ctest.log" 2>/dev/null | tee -a "$summary"

# ---- the benchmark (numbers first: the sanitizers may use up the budget)
step "bench_kernels (full sizes)" 240 "$out/bench_kernels.txt" \
  "$build/cuda_bench_kernels" --json "$out/bench_kernels.json"
sed -n '/^op /,/^ratio:/p' "$out/bench_kernels.txt" >>"$summary" 2>/dev/null
grep -E '^  check .*FAILED' "$out/bench_kernels.txt" >>"$summary" 2>/dev/null

# ---- compute-sanitizer memcheck and racecheck on each test binary
san=$(command -v compute-sanitizer || ls /usr/local/cuda/bin/compute-sanitizer 2>/dev/null || true)
if [ -z "$san" ]; then
  say "compute-sanitizer: not found on this machine (memcheck/racecheck not run)"
else
  mkdir -p "$out/sanitizer"
  for tool in memcheck racecheck; do
    for exe in "$build"/cuda_test_*; do
      [ -x "$exe" ] || continue
      name=$(basename "$exe")
      step "$tool $name" 90 "$out/sanitizer/$name.$tool.log" \
        "$san" --tool "$tool" --error-exitcode 99 --print-limit 20 "$exe"
      rc=$?
      if [ $rc -ne 0 ] && [ $rc -ne 99 ] && grep -qiE 'not supported|permission|unable to|refused|ERR_NVGPUCTRPERM' \
           "$out/sanitizer/$name.$tool.log"; then
        say "compute-sanitizer refused here (see sanitizer/$name.$tool.log): stopping the sanitizer runs"
        break 2
      fi
    done
  done
fi

# ---- Java: jtrain bench kernels --device cuda (same measurements through the JNI bindings)
if [ $have_java = 1 ]; then
  jcmd=("$java_home/bin/java" --add-modules jdk.incubator.vector -Djtrain.native.dir="$build"
        -Djtrain.root="$root" -cp "$jar:$root/cli/target/lib/*" dev.jtrain.cli.Main)
  step "jtrain info" 60 "$out/jtrain_info.txt" "${jcmd[@]}" info
  step "jtrain bench kernels --device cuda" 180 "$out/jtrain_bench_kernels.txt" \
    "${jcmd[@]}" bench kernels --device cuda --json "$out/jtrain_bench_kernels.json"
  sed -n '/^op /,/^ratio:/p' "$out/jtrain_bench_kernels.txt" >>"$summary" 2>/dev/null
fi

say "done in $(( $(date +%s) - start )) s, $failures step(s) not OK"
[ $failures -eq 0 ]
