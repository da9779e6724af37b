package dev.jtrain.ensemble;

import dev.jtrain.io.Checkpoint;
import dev.jtrain.io.CheckpointException;
import dev.jtrain.nn.Layer;
import dev.jtrain.tensor.Device;

/**
 * Builds the (untrained) model a checkpoint's weights belong to, from what the checkpoint records about it (for
 * {@code jtrain train} checkpoints: its recorded options, see {@code cli.RecordedModel}).
 */
@FunctionalInterface
public interface ModelFactory {

    /** A model and the input shape it takes (e.g. [784] for an MLP on 28 x 28 images). */
    record Built(Layer model, int[] inputDims) {
    }

    /**
     * The model of {@code checkpoint} for samples of {@code sampleDims} (after the checkpoint's preprocessing) on
     * {@code device}, with the class count of the checkpoint's weights; errors name the checkpoint's files.
     */
    Built build(Checkpoint checkpoint, int[] sampleDims, Device device) throws CheckpointException;
}
