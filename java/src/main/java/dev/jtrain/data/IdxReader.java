package dev.jtrain.data;

import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * Reads IDX files (the MNIST format): a 4-byte big-endian magic {@code 0x00 0x00 type rank}, then
 * {@code rank} big-endian int32 dimension sizes, then the elements in row-major order. Only element
 * type {@code 0x08} (unsigned byte) is supported, the type of every MNIST file. Files may be gzip
 * compressed (recognised by the gzip magic 1f 8b, whatever the file name) or plain.
 *
 * <p>Errors are {@link DataFileException}s naming the file and what is wrong: missing file, bad magic,
 * wrong rank, truncated data (with the byte offset, counted in the uncompressed IDX stream, where the
 * data ended), extra bytes after the data, corrupt gzip data. A header announcing more elements than
 * the file holds fails at the truncation point without first allocating the announced size.
 */
public final class IdxReader {
    /** IDX element type code of unsigned bytes. */
    public static final int TYPE_UBYTE = 0x08;

    private static final int CHUNK = 1 << 20;

    private IdxReader() {
    }

    /** The contents of an IDX file: its dimension sizes and its elements as (unsigned) bytes. */
    public record IdxFile(Path file, int[] dims, byte[] data) {
        /** Number of items (the first dimension). */
        public int count() {
            return dims[0];
        }

        /** Elements per item (product of the dimensions after the first). */
        public int itemSize() {
            int n = 1;
            for (int i = 1; i < dims.length; i++) {
                n *= dims[i];
            }
            return n;
        }

        /** Element {@code i} as an int in 0..255. */
        public int unsigned(int i) {
            return data[i] & 0xff;
        }
    }

    /** Reads an unsigned-byte IDX file of rank 3 (images: count, rows, columns). */
    public static IdxFile readImages(Path file) throws DataFileException {
        return read(file, 3);
    }

    /** Reads an unsigned-byte IDX file of rank 1 (labels). */
    public static IdxFile readLabels(Path file) throws DataFileException {
        return read(file, 1);
    }

    /**
     * Reads an unsigned-byte IDX file whose rank must be {@code expectedRank} (any rank when
     * {@code expectedRank <= 0}).
     */
    public static IdxFile read(Path file, int expectedRank) throws DataFileException {
        if (Files.isDirectory(file)) {
            throw new DataFileException(file, "is a directory, expected an IDX file");
        }
        if (!Files.exists(file)) {
            throw new DataFileException(file, "file not found");
        }
        try (InputStream raw = new BufferedInputStream(Files.newInputStream(file), 1 << 16)) {
            return parse(file, open(file, raw), expectedRank);
        } catch (DataFileException e) {
            throw e;
        } catch (NoSuchFileException e) {
            throw new DataFileException(file, "file not found", e);
        } catch (AccessDeniedException e) {
            throw new DataFileException(file, "permission denied", e);
        } catch (IOException e) {
            throw new DataFileException(file, "cannot read: " + e, e);
        }
    }

    /** Wraps {@code raw} in a gzip decoder when it starts with the gzip magic. */
    private static InputStream open(Path file, InputStream raw) throws IOException {
        raw.mark(2);
        int b0 = raw.read();
        int b1 = raw.read();
        raw.reset();
        if (b0 == 0x1f && b1 == 0x8b) {
            try {
                return new GZIPInputStream(raw, 1 << 16);
            } catch (ZipException | EOFException e) {
                throw new DataFileException(file, "corrupt gzip header: " + e.getMessage(), e);
            }
        }
        return raw;
    }

    private static IdxFile parse(Path file, InputStream in, int expectedRank) throws IOException {
        Counter c = new Counter(file, in);
        byte[] head = new byte[4];
        int got = c.readFully(head, 0, 4);
        if (got < 4) {
            throw new DataFileException(file, got == 0 ? "empty file, expected an IDX header"
                    : "truncated data at byte offset " + got + ": the 4-byte IDX magic number is incomplete");
        }
        int magic = ((head[0] & 0xff) << 24) | ((head[1] & 0xff) << 16) | ((head[2] & 0xff) << 8) | (head[3] & 0xff);
        int type = head[2] & 0xff;
        int rank = head[3] & 0xff;
        String expected = expectedRank > 0 ? String.format("0x%08x", (TYPE_UBYTE << 8) | expectedRank)
                : "0x000008NN";
        if (head[0] != 0 || head[1] != 0) {
            throw new DataFileException(file, String.format(
                    "bad magic number 0x%08x (expected %s: an unsigned-byte IDX file); not an IDX file", magic, expected));
        }
        if (type != TYPE_UBYTE) {
            throw new DataFileException(file, String.format(
                    "bad magic number 0x%08x: element type 0x%02x is not supported (expected %s, unsigned bytes)",
                    magic, type, expected));
        }
        if (rank == 0 || (expectedRank > 0 && rank != expectedRank)) {
            throw new DataFileException(file, String.format(
                    "bad magic number 0x%08x: %d dimensions, expected %s (%d dimension%s)",
                    magic, rank, expected, expectedRank, expectedRank == 1 ? "" : "s"));
        }
        byte[] dimBytes = new byte[4 * rank];
        got = c.readFully(dimBytes, 0, dimBytes.length);
        if (got < dimBytes.length) {
            throw new DataFileException(file, "truncated data at byte offset " + (4 + got) + ": the header announces "
                    + rank + " dimension sizes (" + (4 + dimBytes.length) + " header bytes)");
        }
        int[] dims = new int[rank];
        long total = 1;
        for (int i = 0; i < rank; i++) {
            int o = 4 * i;
            dims[i] = ((dimBytes[o] & 0xff) << 24) | ((dimBytes[o + 1] & 0xff) << 16)
                    | ((dimBytes[o + 2] & 0xff) << 8) | (dimBytes[o + 3] & 0xff);
            if (dims[i] < 0) {
                throw new DataFileException(file, "bad header: dimension " + i + " has negative size " + dims[i]);
            }
            total *= dims[i];
            if (total > Integer.MAX_VALUE - 8) {
                throw new DataFileException(file, "bad header: dimensions " + Arrays.toString(dims)
                        + " announce more elements than fit in memory");
            }
        }
        int headerBytes = 4 + 4 * rank;
        int n = (int) total;
        byte[] data = new byte[Math.min(n, CHUNK)];
        int have = 0;
        while (have < n) {
            if (have == data.length) {
                data = Arrays.copyOf(data, (int) Math.min(n, 2L * data.length));
            }
            int r = c.readFully(data, have, data.length - have);
            have += r;
            if (r == 0) {
                break;
            }
        }
        if (have < n) {
            throw new DataFileException(file, "truncated data at byte offset " + (headerBytes + have)
                    + ": the header " + Arrays.toString(dims) + " announces " + n + " data bytes after the "
                    + headerBytes + "-byte header, the file holds " + have);
        }
        if (c.read() >= 0) {
            throw new DataFileException(file, "unexpected extra data at byte offset " + (headerBytes + n)
                    + " after the " + n + " bytes announced by the header " + Arrays.toString(dims));
        }
        return new IdxFile(file, dims, data);
    }

    /** Reads with byte counting, turning gzip failures into clear errors. */
    private static final class Counter {
        private final Path file;
        private final InputStream in;
        private long offset;

        Counter(Path file, InputStream in) {
            this.file = file;
            this.in = in;
        }

        /** Reads up to len bytes, fewer only at end of data; returns how many were read. */
        int readFully(byte[] b, int off, int len) throws DataFileException {
            int total = 0;
            while (total < len) {
                int r;
                try {
                    r = in.read(b, off + total, len - total);
                } catch (EOFException e) {
                    throw new DataFileException(file, "truncated data at byte offset " + (offset + total)
                            + ": the gzip stream ends early (" + e.getMessage() + ")", e);
                } catch (ZipException e) {
                    throw new DataFileException(file, "corrupt gzip data near byte offset " + (offset + total)
                            + ": " + e.getMessage(), e);
                } catch (IOException e) {
                    throw new DataFileException(file, "read error at byte offset " + (offset + total) + ": " + e, e);
                }
                if (r < 0) {
                    break;
                }
                total += r;
            }
            offset += total;
            return total;
        }

        int read() throws DataFileException {
            byte[] one = new byte[1];
            return readFully(one, 0, 1) == 1 ? one[0] & 0xff : -1;
        }
    }
}
