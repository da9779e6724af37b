package dev.jtrain.io;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * Replaces files so that a reader sees the old contents or the new, never a mix: each new file is written to
 * a temporary file in the target's own directory (same file system, so the rename is atomic), flushed to disk
 * ({@code fsync}), then renamed over the target; the directory is synced last so the rename itself survives a
 * crash. When anything fails before the renames (a full disk, an I/O error, an exception of the writer) the
 * temporaries are deleted and every target keeps its old contents.
 *
 * <p>Several files are renamed one after the other, in the order given: a crash between two renames leaves
 * the first new and the rest old, which is why checkpoints record the weights' checksum in the sidecar (the
 * last file renamed) and verify it on load.
 */
public final class AtomicFiles {
    private static final java.security.SecureRandom RANDOM = new java.security.SecureRandom();

    private AtomicFiles() {
    }

    /** Writes a file's whole contents; called once, with a stream that is closed afterwards by the caller. */
    @FunctionalInterface
    public interface Content {
        void writeTo(OutputStream out) throws IOException;
    }

    /** One file to replace and the contents it gets. */
    public record Target(Path path, Content content) {
    }

    /** {@link #replaceAll} of one file. */
    public static void replace(Path path, Content content) throws IOException {
        replaceAll(List.of(new Target(path, content)), UnaryOperator.identity());
    }

    /**
     * Writes every target to its temporary, syncs them all, and only then renames them in order.
     * {@code wrap} decorates each file's stream (identity normally; tests inject a stream that fails midway).
     */
    public static void replaceAll(List<Target> targets, UnaryOperator<OutputStream> wrap) throws IOException {
        List<Path> temps = new ArrayList<>();
        try {
            for (Target t : targets) {
                Path target = t.path().toAbsolutePath();
                Path dir = target.getParent();
                // not Files.createTempFile: its files are owner-only (0600); this one gets the umask's permissions
                Path tmp = dir.resolve("." + target.getFileName() + "." + Long.toUnsignedString(RANDOM.nextLong(), 36) + ".tmp");
                try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.CREATE_NEW)) {
                    temps.add(tmp);
                    OutputStream out = wrap.apply(new BufferedOutputStream(Channels.newOutputStream(ch), 1 << 16));
                    t.content().writeTo(out);
                    out.flush();
                    ch.force(true);
                }
            }
        } catch (IOException | RuntimeException | Error e) {
            for (Path tmp : temps) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            throw e;
        }
        for (int i = 0; i < targets.size(); i++) {
            Path target = targets.get(i).path().toAbsolutePath();
            Files.move(temps.get(i), target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            syncDirectory(target.getParent());
        }
    }

    /** fsync of a directory (makes a rename durable on Linux); skipped where the platform cannot open one. */
    private static void syncDirectory(Path dir) {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException | UnsupportedOperationException e) {
            // Not every platform lets a directory be opened or synced; the rename is still atomic.
        }
    }
}
