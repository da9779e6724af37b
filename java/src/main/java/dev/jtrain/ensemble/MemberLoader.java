package dev.jtrain.ensemble;

import com.fasterxml.jackson.databind.JsonNode;
import dev.jtrain.data.preprocess.Identity;
import dev.jtrain.data.preprocess.Preprocessor;
import dev.jtrain.data.preprocess.Preprocessors;
import dev.jtrain.io.Checkpoint;
import dev.jtrain.io.CheckpointException;
import dev.jtrain.io.StateDict;
import dev.jtrain.nn.Layer;
import dev.jtrain.tensor.Device;
import dev.jtrain.tensor.Tensor;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Loads ensemble members from checkpoints (training checkpoints and inference ones such as snapshots): the weights
 * file and its sidecar are verified ({@link Checkpoint#load}), the model is rebuilt by a {@link ModelFactory}, its
 * weights loaded by name ({@link StateDict}), and the preprocessing fitted for that run is restored from the sidecar
 * (none recorded: the samples are used as they are). Every error names the file.
 */
public final class MemberLoader {
    private MemberLoader() {
    }

    /** One member from {@code file}, for raw samples of {@code rawSampleDims}, on {@code device}. */
    public static Member load(Path file, ModelFactory factory, int[] rawSampleDims, Device device)
            throws CheckpointException {
        return load(Checkpoint.load(file), factory, rawSampleDims, device);
    }

    /** One member from the loaded checkpoint {@code c} (its file named in errors), as {@link #load(Path, ModelFactory, int[], Device)}. */
    public static Member load(Checkpoint c, ModelFactory factory, int[] rawSampleDims, Device device)
            throws CheckpointException {
        Path file = c.file();
        JsonNode pj = c.preprocessing();
        Preprocessor pre;
        if (pj.isNull() || pj.isMissingNode()) {
            pre = new Identity(rawSampleDims);
        } else {
            try {
                pre = Preprocessors.fromJson(pj);
            } catch (IllegalArgumentException e) {
                throw new CheckpointException(c.sidecarFile(), "preprocessing: " + e.getMessage(), e);
            }
        }
        if (pre.inputSize() != product(rawSampleDims)) {
            throw new CheckpointException(file, "was trained on samples of " + Arrays.toString(pre.inputDims())
                    + " (its preprocessing " + pre.spec() + "), the data has samples of " + Arrays.toString(rawSampleDims));
        }
        ModelFactory.Built built = factory.build(c, pre.outputDims(), device);
        Layer model = built.model();
        try {
            StateDict.load(model, c.weights(), file, name -> false);
            return new Member(file.toString(), model, pre, built.inputDims(), headClasses(model, c, file));
        } catch (CheckpointException | RuntimeException e) {
            model.close();
            throw e;
        }
    }

    /** Members from {@code files}, in order; on an error the members loaded so far are closed. */
    public static List<Member> loadAll(List<Path> files, ModelFactory factory, int[] rawSampleDims, Device device)
            throws CheckpointException {
        List<Member> out = new ArrayList<>();
        try {
            for (Path f : files) {
                out.add(load(f, factory, rawSampleDims, device));
            }
            return out;
        } catch (CheckpointException | RuntimeException e) {
            out.forEach(Member::close);
            throw e;
        }
    }

    /**
     * The class count of checkpoint {@code c}: the rows of its head, the weight [classes, in] of {@code model}'s last
     * Linear layer (a model of the checkpoint's architecture; its own class count does not matter).
     */
    public static int headClasses(Layer model, Checkpoint c, Path file) throws CheckpointException {
        for (String name : StateDict.headNames(model)) {
            Tensor w = c.weights().get(name);
            if (name.endsWith(".weight") && w != null && w.rank() == 2) {
                return w.dim(0);
            }
        }
        throw new CheckpointException(file, "no classification head (a Linear layer's weight) among its tensors "
                + c.weights().keySet());
    }

    private static int product(int[] dims) {
        int p = 1;
        for (int d : dims) {
            p *= d;
        }
        return p;
    }
}
