package dev.jtrain.cli;

import dev.jtrain.Version;
import dev.jtrain.backend.Backends;
import dev.jtrain.backend.DeviceUnavailableException;
import dev.jtrain.backend.cpu.CpuThreadPool;
import dev.jtrain.backend.cpu.gemm.Sgemm;
import dev.jtrain.backend.jni.CudaNative;
import dev.jtrain.backend.jni.EmuNative;
import dev.jtrain.backend.jni.NativeApi;
import dev.jtrain.backend.jni.NativeLibrary;
import dev.jtrain.backend.jni.VendorLibraries;
import dev.jtrain.distributed.DistributedUnavailableException;
import dev.jtrain.distributed.MpiCommunicator;
import dev.jtrain.tensor.Device;
import picocli.CommandLine.Command;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code jtrain info}: version, Java, threads, SIMD path, devices and native libraries. */
@Command(name = "info", mixinStandardHelpOptions = true,
        description = "Show the version, Java runtime, CPU threads, SIMD path, devices, native and vendor libraries.")
public final class InfoCommand implements Callable<Integer> {

    @Override
    public Integer call() {
        System.out.println("jtrain " + Version.get());
        System.out.println("java: " + System.getProperty("java.vm.name") + " " + Runtime.version()
                + " (" + System.getProperty("java.vendor") + ")");
        System.out.println("cpu: " + cpuModel() + ", " + Runtime.getRuntime().availableProcessors()
                + " logical cores");
        System.out.println("threads: " + CpuThreadPool.processorCount() + " (train and ensemble use that many unless --threads says otherwise)");
        System.out.println("simd: " + Sgemm.simdPath());
        System.out.println("devices:");
        System.out.printf("  %-6s %s%n", "cpu", "available   " + Backends.cpu().describe());
        for (Device d : devices()) {
            String status;
            try {
                status = "available   " + Backends.forDevice(d).describe() + memory(d);
            } catch (DeviceUnavailableException | UnsupportedOperationException e) {
                status = "unavailable (" + e.getMessage() + ")";
            }
            System.out.printf("  %-6s %s%n", d, status);
        }
        System.out.println("native libraries:");
        for (NativeLibrary.Kind kind : NativeLibrary.Kind.values()) {
            String why = NativeLibrary.unavailableReason(kind);
            if (why != null) {
                System.out.printf("  %-18s not loaded: %s%n", kind.fileName(), why);
                continue;
            }
            if (kind == NativeLibrary.Kind.MPI) {
                System.out.printf("  %-18s loaded (from %s)%n", kind.fileName(), NativeLibrary.loadedFrom(kind));
                System.out.println("    " + mpiStatus());
                continue;
            }
            NativeApi api = kind == NativeLibrary.Kind.EMU ? EmuNative.api() : CudaNative.api();
            System.out.printf("  %-18s %s (from %s)%n", kind.fileName(), api.buildInfo(), NativeLibrary.loadedFrom(kind));
            if (kind == NativeLibrary.Kind.CUDA) {
                System.out.println("    GPUs visible: " + safeDeviceCount(api));
                for (VendorLibraries.Library lib : VendorLibraries.report(api)) {
                    System.out.println("    " + lib.describe());
                }
            }
        }
        return 0;
    }

    /** Whether OpenMPI can be opened (without initialising MPI: info starts no ranks). */
    private static String mpiStatus() {
        try {
            return "OpenMPI: " + MpiCommunicator.openLibrary()
                    + " opens (mpirun -np N ./jtrain ... to use it)";
        } catch (DistributedUnavailableException e) {
            return e.getMessage();
        }
    }

    /** emu, then every visible GPU (cuda:0 at least, so its absence is explained). */
    private static java.util.List<Device> devices() {
        java.util.List<Device> out = new java.util.ArrayList<>(java.util.List.of(Device.EMU));
        int n = 0;
        if (NativeLibrary.unavailableReason(NativeLibrary.Kind.CUDA) == null) {
            try {
                n = CudaNative.api().deviceCount();
            } catch (RuntimeException e) {
                n = 0;
            }
        }
        for (int i = 0; i < Math.max(1, n); i++) {
            out.add(Device.cuda(i));
        }
        return out;
    }

    /** ", memory 80.0 GiB, compute 9.0, driver CUDA 13.0, runtime 13.0" for a device whose backend exists. */
    private static String memory(Device d) {
        NativeApi api = Backends.gpu(d).api();
        double gib = api.deviceTotalMemory(d.index()) / (1024.0 * 1024 * 1024);
        if (d.kind() == Device.Kind.EMU) {
            return String.format(java.util.Locale.ROOT, "; host memory %.1f GiB", gib);
        }
        int cc = api.deviceComputeCapability(d.index());
        return String.format(java.util.Locale.ROOT, "; memory %.1f GiB, compute %d.%d, driver CUDA %s, runtime %s", gib,
                cc / 10, cc % 10, version(api.driverVersion()), version(api.cudaRuntimeVersion()));
    }

    private static String version(int v) {
        return v / 1000 + "." + (v % 1000) / 10;
    }

    private static String safeDeviceCount(NativeApi api) {
        try {
            int n = api.deviceCount();
            StringBuilder sb = new StringBuilder(Integer.toString(n));
            for (int i = 0; i < n; i++) {
                sb.append(i == 0 ? " (" : ", ").append(api.deviceName(i));
            }
            return n > 0 ? sb.append(")").toString() : sb.toString();
        } catch (RuntimeException e) {
            return "0 (" + e.getMessage() + ")";
        }
    }

    private static String cpuModel() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) {
                    return line.substring(line.indexOf(':') + 1).trim();
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux or not readable: fall through
        }
        return System.getProperty("os.arch");
    }
}
