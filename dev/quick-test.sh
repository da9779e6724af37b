#!/usr/bin/env bash
# Developer helper: compile the library, the CLI and the tests with javac into a private folder (so several people
# can build at once without sharing target/), then run JUnit tests through the console launcher.
#   dev/quick-test.sh OUTDIR [junit console args...]   e.g.  dev/quick-test.sh /tmp/me --select-class=dev.jtrain.FooTest
# Needs `mvn -pl tests dependency:copy-dependencies -DincludeScope=runtime -DexcludeGroupIds=dev.jtrain
#   -DoutputDirectory=target/lib` once (tests/target/lib) and the JUnit console jar in ~/.m2.
set -euo pipefail
out=${1:?usage: dev/quick-test.sh OUTDIR [junit args]}; shift
root=$(cd "$(dirname "$0")/.." && pwd)
console=$(ls ~/.m2/repository/org/junit/platform/junit-platform-console-standalone/1.14.1/*.jar | head -1)
libs=$(ls "$root"/tests/target/lib/*.jar | tr '\n' ':')
rm -rf "$out/main" "$out/test"; mkdir -p "$out/main" "$out/test"
javac --release 17 --add-modules jdk.incubator.vector -nowarn -d "$out/main" -cp "$libs" \
  $(find "$root/java/src/main/java" "$root/cli/src/main/java" -name '*.java' ! -name module-info.java) 2>&1 | grep -v 'incubat' || true
[ -n "$(find "$out/main" -name '*.class' | head -1)" ] || { echo "main compile failed"; exit 1; }
javac --release 17 --add-modules jdk.incubator.vector -nowarn -d "$out/test" -cp "$out/main:$libs:$console" \
  $(find "$root/tests/src/test/java" -name '*.java') 2>&1 | grep -v 'incubat' || true
[ $# -eq 0 ] && exit 0
exec java --add-modules jdk.incubator.vector -Djtrain.root="$root" -Xmx4g -jar "$console" execute \
  -cp "$out/main:$out/test:$libs" --details=tree --disable-banner "$@" 2> >(grep -v 'Using incubator modules' >&2)
