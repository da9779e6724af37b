package dev.jtrain.cli;

import dev.jtrain.Version;
import dev.jtrain.backend.Backends;
import dev.jtrain.backend.cpu.CpuThreads;
import dev.jtrain.backend.cpu.gemm.Sgemm;
import dev.jtrain.tensor.Device;
import picocli.CommandLine.Command;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code jtrain info}: version, Java, threads, SIMD path, devices and native libraries. */
@Command(name = "info", mixinStandardHelpOptions = true,
        description = "Show the version, Java runtime, CPU threads, SIMD path, devices and native libraries.")
public final class InfoCommand implements Callable<Integer> {

    @Override
    public Integer call() {
        System.out.println("jtrain " + Version.get());
        System.out.println("java: " + System.getProperty("java.vm.name") + " " + Runtime.version()
                + " (" + System.getProperty("java.vendor") + ")");
        System.out.println("cpu: " + cpuModel() + ", " + Runtime.getRuntime().availableProcessors()
                + " logical cores");
        System.out.println("threads: " + CpuThreads.threads() + " (set with --threads)");
        System.out.println("simd: " + Sgemm.simdPath());
        System.out.println("devices:");
        System.out.println("  cpu   available   " + Backends.cpu().describe());
        for (Device d : new Device[] {Device.EMU, Device.cuda(0)}) {
            String status;
            try {
                status = "available   " + Backends.forDevice(d).describe();
            } catch (UnsupportedOperationException e) {
                status = "unavailable (" + e.getMessage() + ")";
            }
            System.out.printf("  %-5s %s%n", d, status);
        }
        System.out.println("native libraries: none (the CUDA/emu native library is not part of this build)");
        return 0;
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
