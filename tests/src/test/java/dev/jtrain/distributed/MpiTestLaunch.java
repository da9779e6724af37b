package dev.jtrain.distributed;

import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Starts a Java main of the tests module in child JVMs, under {@code mpirun -np N} or alone, with the class path
 * of the running tests, and returns its exit status and output. mpirun missing: the test is skipped with the
 * reason, except in CI ({@code CI=true}), where it fails, so that CI cannot pass without running it.
 */
public final class MpiTestLaunch {

    /** Generous for a JVM start plus MPI_Init per rank on 2 shared cores; a hang is killed and reported. */
    static final long TIMEOUT_SECONDS = 120;

    public record Result(int exitCode, String output) {
    }

    private MpiTestLaunch() {
    }

    /** mpirun on the PATH, or a skip (outside CI) / failure (in CI) that says what to install. */
    public static Path requireMpirun() {
        Path found = onPath("mpirun");
        if (found == null) {
            String why = "mpirun not found on the PATH: install openmpi-bin and libopenmpi-dev (Debian/Ubuntu) to run "
                    + "the MPI tests";
            if ("true".equalsIgnoreCase(System.getenv("CI"))) {
                Assertions.fail(why + " (CI=true: the MPI tests must run in CI; .ci/run installs OpenMPI)");
            }
            Assumptions.abort(why);
        }
        return found;
    }

    /**
     * libjtrain_mpi.so, or a skip (no OpenMPI here, not CI) / failure (CI, or mpirun present: then CMake should
     * have found MPI) that says why.
     */
    public static void requireShim() {
        String why = dev.jtrain.backend.jni.NativeLibrary.unavailableReason(dev.jtrain.backend.jni.NativeLibrary.Kind.MPI);
        if (why == null) {
            return;
        }
        if ("true".equalsIgnoreCase(System.getenv("CI")) || onPath("mpirun") != null) {
            Assertions.fail(why);
        }
        Assumptions.abort(why);
    }

    /** {@code mpirun -np ranks ... java ... mainClass args}. */
    public static Result mpirun(int ranks, Class<?> mainClass, List<String> jvmOptions, String... args)
            throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(requireMpirun().toString(), "-np", String.valueOf(ranks),
                "--oversubscribe"));
        if (isRoot()) {
            cmd.add("--allow-run-as-root");
        }
        // Shared memory without the cross-memory-attach single copy: containers often forbid process_vm_readv.
        cmd.addAll(List.of("--mca", "btl_vader_single_copy_mechanism", "none"));
        cmd.addAll(javaCommand(mainClass, jvmOptions, args));
        return run(cmd, Map.of());
    }

    /** The main alone in one child JVM, with extra environment variables. */
    public static Result java(Class<?> mainClass, List<String> jvmOptions, Map<String, String> env, String... args)
            throws IOException, InterruptedException {
        return run(javaCommand(mainClass, jvmOptions, args), env);
    }

    private static List<String> javaCommand(Class<?> mainClass, List<String> jvmOptions, String... args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(List.of("--add-modules", "jdk.incubator.vector", "-Xmx1g", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                "-cp", System.getProperty("java.class.path")));
        String nativeDir = System.getProperty("jtrain.native.dir");
        if (nativeDir != null) {
            cmd.add("-Djtrain.native.dir=" + nativeDir);
        }
        cmd.addAll(jvmOptions);
        cmd.add(mainClass.getName());
        cmd.addAll(List.of(args));
        return cmd;
    }

    private static Result run(List<String> cmd, Map<String, String> env) throws IOException, InterruptedException {
        Path log = Files.createTempFile("jtrain-mpi-", ".log");
        try {
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
            // A child must not think it was started by an mpirun that started this JVM.
            pb.environment().keySet().removeIf(k -> k.startsWith("OMPI_") || k.startsWith("PMIX_"));
            pb.environment().putAll(env);
            Process p = pb.start();
            if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
                p.waitFor(10, TimeUnit.SECONDS);
                Assertions.fail("hung: no exit within " + TIMEOUT_SECONDS + " s: " + String.join(" ", cmd) + "\n"
                        + Files.readString(log));
            }
            return new Result(p.exitValue(), Files.readString(log));
        } finally {
            Files.deleteIfExists(log);
        }
    }

    static boolean isRoot() {
        try {
            return ((Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid")) == 0;
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return "root".equals(System.getProperty("user.name"));
        }
    }

    private static Path onPath(String exe) {
        String path = System.getenv("PATH");
        if (path == null) {
            return null;
        }
        for (String dir : path.split(File.pathSeparator)) {
            Path p = Path.of(dir.isEmpty() ? "." : dir, exe);
            if (Files.isExecutable(p)) {
                return p;
            }
        }
        return null;
    }
}
