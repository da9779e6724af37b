package dev.jtrain.io;

import dev.jtrain.data.DataFileException;

import java.nio.file.Path;

/**
 * A checkpoint file that cannot be used or written: missing, truncated, corrupt, not matching its sidecar,
 * or not matching the model it is loaded into. The message is one line starting with the file's path and
 * naming the tensor, byte offset or field and what mismatched (e.g.
 * "run.safetensors: tensor 0.weight: shape [16, 784] in the file, the model has [32, 784]").
 */
public class CheckpointException extends DataFileException {
    public CheckpointException(Path file, String what) {
        super(file, what);
    }

    public CheckpointException(Path file, String what, Throwable cause) {
        super(file, what, cause);
    }
}
