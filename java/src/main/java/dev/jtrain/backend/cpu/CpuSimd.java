package dev.jtrain.backend.cpu;

/**
 * Whether the cpu kernels use their Vector API loops ({@link CpuVector}): true when the JVM runs with
 * {@code --add-modules jdk.incubator.vector} (the launcher and the build always add it) and the system
 * property {@code jtrain.cpu.scalar} is not true. Kept apart from {@link CpuVector} so that checking it
 * never loads the incubator classes. Both paths give the same bits.
 */
final class CpuSimd {
    private CpuSimd() {
    }

    static final boolean VECTOR = !Boolean.getBoolean("jtrain.cpu.scalar")
            && ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();
}
