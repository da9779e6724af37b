package dev.jtrain.data;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A data file that cannot be used: missing, unreadable, or not what its format promises. The message
 * is one line that starts with the file's path and says what is wrong (e.g. "data/x/train-images-idx3-ubyte.gz:
 * truncated data at byte offset 4016: ...").
 */
public class DataFileException extends IOException {
    private final transient Path file;

    public DataFileException(Path file, String what) {
        super(file + ": " + what);
        this.file = file;
    }

    public DataFileException(Path file, String what, Throwable cause) {
        super(file + ": " + what, cause);
        this.file = file;
    }

    /** The file the problem is about. */
    public Path file() {
        return file;
    }
}
