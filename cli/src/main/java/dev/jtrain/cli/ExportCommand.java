package dev.jtrain.cli;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.jtrain.backend.Backends;
import dev.jtrain.backend.DeviceUnavailableException;
import dev.jtrain.data.DataFileException;
import dev.jtrain.io.BatchNormFoldExport;
import dev.jtrain.io.Checkpoint;
import dev.jtrain.nn.layers.BatchNorm;
import dev.jtrain.tensor.Device;
import dev.jtrain.tensor.Tensor;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code jtrain export --fold-bn IN.safetensors OUT.safetensors}: an inference checkpoint with every BatchNorm
 * that follows a Linear or Conv2d folded into it ({@link BatchNormFoldExport}); the sidecar OUT.json has kind
 * "inference", the folded and kept BatchNorms, and the source's config when IN has a sidecar. IN may be any
 * safetensors file with PyTorch names (a sidecar is not required). Errors: one line, exit status 1 for a bad
 * file, 2 for bad usage.
 */
@Command(name = "export", mixinStandardHelpOptions = true,
        description = "Write an inference checkpoint (--fold-bn: BatchNorm folded into the Linear/Conv2d before it).")
public final class ExportCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--fold-bn", required = true,
            description = "fold each BatchNorm into the Linear/Conv2d right before it (in PyTorch: replace it by nn.Identity)")
    boolean foldBn;

    @Option(names = "--eps", paramLabel = "X", description = "BatchNorm eps (default: ${DEFAULT-VALUE}, PyTorch's and jtrain's)")
    float eps = BatchNorm.DEFAULT_EPS;

    @Option(names = "--device", paramLabel = "DEV", description = "device that computes the folding (default: ${DEFAULT-VALUE})")
    String device = "cpu";

    @Parameters(index = "0", paramLabel = "IN", description = "checkpoint to read (.safetensors)")
    Path in;

    @Parameters(index = "1", paramLabel = "OUT", description = "inference checkpoint to write (.safetensors, and its .json sidecar)")
    Path out;

    @Override
    public Integer call() {
        PrintWriter o = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        try {
            if (!(eps > 0)) {
                throw new IllegalArgumentException("--eps must be > 0, got " + eps);
            }
            if (in.toAbsolutePath().normalize().equals(out.toAbsolutePath().normalize())) {
                throw new IllegalArgumentException("OUT must differ from IN (" + in + ")");
            }
            Device dev = Device.parse(device);
            Backends.forDevice(dev);
            Map<String, Tensor> weights = Checkpoint.loadWeights(in);
            ObjectNode info = JsonNodeFactory.instance.objectNode();
            if (Files.exists(Checkpoint.sidecarOf(in))) {
                Checkpoint source = Checkpoint.load(in); // verifies the pair
                info.set("config", source.config());
                info.set("preprocessing", source.preprocessing());
                info.put("epoch", source.epoch());
            }
            BatchNormFoldExport.Result r = BatchNormFoldExport.fold(weights, eps, dev);
            info.put("source", in.getFileName().toString());
            info.put("batchnorm_eps", eps);
            r.folded().forEach(info.putArray("folded_batchnorm")::add);
            r.kept().forEach(info.putArray("kept_batchnorm")::add);
            Checkpoint.ofInference(r.weights(), info).save(out);
            o.printf("%s: %d tensors, %d BatchNorm folded %s%s -> %s (and %s)%n", in, r.weights().size(), r.folded().size(),
                    r.folded(), r.kept().isEmpty() ? "" : ", kept " + r.kept() + " (no Linear/Conv2d right before)",
                    out, Checkpoint.sidecarOf(out).getFileName());
            o.flush();
            return 0;
        } catch (IllegalArgumentException | UnsupportedOperationException | DeviceUnavailableException e) {
            return fail(err, e.getMessage(), CommandLine.ExitCode.USAGE);
        } catch (DataFileException e) {
            return fail(err, e.getMessage(), CommandLine.ExitCode.SOFTWARE);
        } catch (IOException e) {
            return fail(err, out + ": cannot write: " + e.getMessage(), CommandLine.ExitCode.SOFTWARE);
        }
    }

    private static int fail(PrintWriter err, String message, int code) {
        err.println("jtrain export: error: " + (message == null ? "unknown error" : message.replaceAll("\\s*[\\r\\n]+\\s*", " ")));
        err.flush();
        return code;
    }
}
