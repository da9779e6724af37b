package dev.jtrain.cli;

import dev.jtrain.backend.Backends;
import dev.jtrain.backend.DeviceUnavailableException;
import dev.jtrain.check.CheckReport;
import dev.jtrain.check.ConformanceRunner;
import dev.jtrain.tensor.Device;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code jtrain check FILE_OR_DIR... [--device cpu|emu|cuda[:n]] [--json OUT.json]}: runs conformance cases
 * (tests/conformance/FORMAT.md) on a device and prints {@code PASS|FAIL|UNSUPPORTED  file  case  op  worst=R}
 * per case and the counts. Exit status 0 only if every case passed; 1 if any failed or was unsupported;
 * 2 for a usage error or an unavailable device.
 */
@Command(name = "check", mixinStandardHelpOptions = true,
        description = "Run conformance cases (JSON files or directories of them) on a device and compare every "
                + "output and gradient with the reference.",
        exitCodeListHeading = "%nExit status:%n",
        exitCodeList = {"0:every case passed", "1:a case failed or was unsupported",
                "2:usage error or device not available"})
public final class CheckCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Parameters(arity = "1..*", paramLabel = "FILE_OR_DIR",
            description = "Case files, or directories whose *.json files are run (index.json skipped).")
    List<Path> inputs;

    @Option(names = "--device", paramLabel = "DEVICE", defaultValue = "cpu",
            description = "cpu, emu, cuda or cuda:N (default: ${DEFAULT-VALUE}).")
    String device;

    @Option(names = "--json", paramLabel = "OUT.json", description = "Also write the results as JSON.")
    Path json;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        Device dev;
        try {
            dev = Device.parse(device);
            Backends.forDevice(dev);
        } catch (IllegalArgumentException | UnsupportedOperationException | DeviceUnavailableException e) {
            err.println("jtrain check: " + e.getMessage());
            err.flush();
            return 2;
        }
        ConformanceRunner runner = new ConformanceRunner(dev);
        CheckReport report = runner.run(inputs, r -> {
            out.println(r.line());
            out.flush();
        });
        out.println(report.summaryLine());
        out.flush();
        if (json != null) {
            try {
                report.writeJson(json);
            } catch (IOException | RuntimeException e) {
                err.println("jtrain check: cannot write " + json + ": " + e.getMessage());
                err.flush();
                return 2;
            }
        }
        return report.allPassed() ? 0 : 1;
    }
}
