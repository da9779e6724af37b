#!/usr/bin/env bash
# Builds the GPU bundle: everything a bare GPU machine (no Java, no network) needs to run jtrain's
# GPU tests and benchmarks in one call, under 64 MiB:
#   jre/            a jlink'd Java runtime (the modules jtrain needs; no java.desktop)
#   jtrain.jar lib/ the library and CLI with its native libraries inside (libjtrain_cuda.so is built where nvcc
#                   is found, for sm_80/86/89/90 + PTX; libjtrain_emu.so always) and its dependencies
#   tests.jar junit-platform-console-standalone.jar   the JUnit GPU suites and a launcher for them
#   data/ conformance/   the bundled MNIST and the conformance cases
#   run.sh          runs it all on $JTRAIN_DEVICE (default cuda:0) and writes results to $OUT (see run.sh)
#
#   bench/scripts/gpu_bundle.sh [DIR]      # default DIR: target/gpu-bundle; JTRAIN_CUDA=OFF skips the CUDA library
#   DIR/run.sh                             # on the GPU machine (or JTRAIN_DEVICE=emu DIR/run.sh here, end to end)
#
# With the device tool: carry DIR and run `OUT=$OUT DIR/run.sh` (the whole bundle fits one call's 64 MiB).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
dir=${1:-$root/target/gpu-bundle}
junit_platform=1.14.1
cd "$root"

echo "gpu_bundle: building the jar and the tests (cuda library: ${JTRAIN_CUDA:-auto})" >&2
cuda_flag=()
[ -n "${JTRAIN_CUDA:-}" ] && cuda_flag=(-Djtrain.cuda="$JTRAIN_CUDA")
mvn -B -q -DskipTests "${cuda_flag[@]}" install
(cd tests && mvn -B -q -DskipTests "${cuda_flag[@]}" test-compile jar:test-jar)

rm -rf "$dir"
mkdir -p "$dir/lib"
cp java/target/jtrain-core-*-SNAPSHOT.jar "$dir/jtrain.jar"
# The native libraries are built RelWithDebInfo (host debug info: half of libjtrain_cuda.so); the bundle
# carries them without it (the kernels keep their -lineinfo for profilers and compute-sanitizer).
if command -v strip >/dev/null && command -v jar >/dev/null; then
  natives=$(mktemp -d)
  (cd "$natives" && unzip -q "$dir/jtrain.jar" 'native/*' && find native -name '*.so' -exec strip --strip-debug {} \; \
    && jar uf "$dir/jtrain.jar" native)
  rm -rf "$natives"
fi
cp cli/target/jtrain-cli-*-SNAPSHOT.jar "$dir/lib/"   # the tests run the commands and the conformance runner too
# What the tests need besides the two jars (JCuda included: optional in jtrain-core, the interop test brings it).
(cd tests && mvn -B -q dependency:copy-dependencies -DincludeScope=runtime -DexcludeGroupIds=dev.jtrain \
  -DoutputDirectory="$dir/lib")
cp tests/target/*-tests.jar "$dir/tests.jar"
mvn -B -q dependency:copy -Dartifact="org.junit.platform:junit-platform-console-standalone:$junit_platform" \
  -DoutputDirectory="$dir" -Dmdep.stripVersion=true
mkdir -p "$dir/data" "$dir/tests"
cp -r data/mnist-10k "$dir/data/"
cp -r tests/conformance "$dir/tests/"
cp bench/bundle/run.sh "$dir/run.sh"
# The JUnit classes run.sh runs on the device (those of them the tests jar has).
suites="dev.jtrain.backend.gpu.GpuBackendParityTest dev.jtrain.train.TrainingParityTest dev.jtrain.check.EmuConformanceTest
  dev.jtrain.backend.gpu.GpuMemoryTest dev.jtrain.backend.gpu.DropoutMaskParityTest dev.jtrain.backend.gpu.PinnedTransferTest
  dev.jtrain.backend.gpu.DeviceErrorTest dev.jtrain.interop.JCudaInteropTest"
: >"$dir/gpu-suites.txt"
listing=$(unzip -l "$dir/tests.jar")   # once: `unzip | grep -q` fails under pipefail when grep stops early
for c in $suites; do
  if grep -q " ${c//.//}.class\$" <<<"$listing"; then echo "$c" >>"$dir/gpu-suites.txt"
  else echo "gpu_bundle: $c is not in the tests jar" >&2; fi
done
chmod +x "$dir/run.sh"

echo "gpu_bundle: jlink (java.base, java.sql, jdk.incubator.vector, jdk.management)" >&2
jlink --add-modules java.base,java.sql,jdk.incubator.vector,jdk.management,jdk.unsupported \
  --strip-debug --no-man-pages --no-header-files --compress=2 --output "$dir/jre" 2>&1 \
  | grep -v 'incubator modules' || true
# The JDK's libjvm.so keeps its symbol table (about 4 MiB): not needed to run, and the bundle must stay small.
command -v strip >/dev/null && find "$dir/jre" -name '*.so' -exec strip --strip-unneeded {} \;

size=$(du -sm "$dir" | cut -f1)
echo "gpu_bundle: $dir ($size MiB)"
unzip -l "$dir/jtrain.jar" | grep -o 'native/[^ ]*\.so' | sed 's/^/  carries /'
if [ "$size" -ge 64 ]; then
  echo "gpu_bundle: the bundle is $size MiB, over the 64 MiB a device call carries" >&2
  exit 1
fi
