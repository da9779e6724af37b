package dev.jtrain.backend.jni;

import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;

/**
 * Finds and loads the native libraries: {@code libjtrain_emu.so} (the emu device),
 * {@code libjtrain_cuda.so} (real GPUs) and {@code libjtrain_mpi.so} (MPI and NCCL for
 * {@code dev.jtrain.distributed}, loaded only when a communicator is asked for). The jar carries them under
 * {@code /native/linux-x86_64/}
 * (the Maven build runs CMake with that output folder); a library inside a jar is copied to a temporary
 * file, loaded with {@link System#load} and the file deleted at once (the mapping stays); one in a
 * folder on the class path (target/classes) is loaded in place. The system property
 * {@code jtrain.native.dir} names a folder to load them from instead (e.g. a CMake build folder).
 *
 * <p>Both libraries can be loaded into one JVM: each registers its methods on its own class
 * ({@link EmuNative}, {@link CudaNative}). Loading happens once per kind; a failure is remembered and
 * reported again with the same message.
 */
public final class NativeLibrary {

    /** The native libraries: the two builds of the kernels' library, and the MPI/NCCL shim. */
    public enum Kind {
        EMU("libjtrain_emu.so", "emu"),
        CUDA("libjtrain_cuda.so", "CUDA"),
        /** The JNI shim of {@code dev.jtrain.distributed} (MPI and NCCL, both loaded by it at run time). */
        MPI("libjtrain_mpi.so", "MPI");

        private final String fileName;
        private final String label;

        Kind(String fileName, String label) {
            this.fileName = fileName;
            this.label = label;
        }

        public String fileName() {
            return fileName;
        }

        String missingMessage(String where) {
            return switch (this) {
                case EMU -> "emu library not found in the jar (" + where + "): build with cmake (see README)";
                case CUDA -> "CUDA library not found in the jar (" + where + "): it is built only where nvcc is found "
                        + "(cmake -DJTRAIN_CUDA=ON, or mvn without -Djtrain.cuda=OFF; see README)";
                case MPI -> "MPI support was not built: " + where + " is not in the jar (CMake builds libjtrain_mpi.so "
                        + "only where it finds MPI: install openmpi-bin and libopenmpi-dev (Debian/Ubuntu) and rebuild)";
            };
        }
    }

    /** The system property naming a folder that holds the libraries (overrides the jar). */
    public static final String DIR_PROPERTY = "jtrain.native.dir";

    private static final Map<Kind, String> LOADED = new EnumMap<>(Kind.class);   // kind -> where from
    private static final Map<Kind, String> FAILED = new EnumMap<>(Kind.class);   // kind -> why not

    private NativeLibrary() {
    }

    /** "linux-x86_64" on the one platform the libraries are built for, else null. */
    public static String platform() {
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
        if (os.startsWith("linux") && (arch.equals("amd64") || arch.equals("x86_64"))) {
            return "linux-x86_64";
        }
        return null;
    }

    /** The class-path resource of a library, e.g. "/native/linux-x86_64/libjtrain_emu.so". */
    public static String resourcePath(Kind kind) {
        String p = platform();
        return "/native/" + (p == null ? "linux-x86_64" : p) + "/" + kind.fileName();
    }

    /**
     * Loads the library of {@code kind} once. Throws {@link IllegalStateException} with a message that says
     * what is missing (unsupported platform, library not in the jar, or the loader's error).
     */
    public static synchronized void load(Kind kind) {
        if (LOADED.containsKey(kind)) {
            return;
        }
        String failed = FAILED.get(kind);
        if (failed != null) {
            throw new IllegalStateException(failed);
        }
        try {
            LOADED.put(kind, doLoad(kind));
        } catch (IllegalStateException e) {
            FAILED.put(kind, e.getMessage());
            throw e;
        }
    }

    /** Whether the library of {@code kind} is loaded or can be (loads it). */
    public static boolean isAvailable(Kind kind) {
        try {
            load(kind);
            return true;
        } catch (IllegalStateException e) {
            return false;
        }
    }

    /** Why {@code kind} cannot be loaded, or null when it is loaded (tries to load it). */
    public static String unavailableReason(Kind kind) {
        try {
            load(kind);
            return null;
        } catch (IllegalStateException e) {
            return e.getMessage();
        }
    }

    /** Where the library of {@code kind} was loaded from, or null when it is not loaded. */
    public static synchronized String loadedFrom(Kind kind) {
        return LOADED.get(kind);
    }

    private static String doLoad(Kind kind) {
        String platform = platform();
        if (platform == null) {
            throw new IllegalStateException("jtrain's native libraries are built for linux-x86_64 only; this JVM runs on "
                    + System.getProperty("os.name") + "/" + System.getProperty("os.arch")
                    + " (the cpu device works everywhere; build the " + kind.label + " library from source: see README)");
        }
        String dir = System.getProperty(DIR_PROPERTY);
        if (dir != null && !dir.isBlank()) {
            Path file = Paths.get(dir, kind.fileName()).toAbsolutePath();
            if (!Files.isRegularFile(file)) {
                throw new IllegalStateException(kind.label + " library not found: " + file + " does not exist ("
                        + DIR_PROPERTY + "=" + dir + ")");
            }
            return loadFile(kind, file);
        }
        String resource = resourcePath(kind);
        URL url = NativeLibrary.class.getResource(resource);
        if (url == null) {
            throw new IllegalStateException(kind.missingMessage(resource));
        }
        if ("file".equals(url.getProtocol())) {
            try {
                return loadFile(kind, Paths.get(url.toURI()));
            } catch (URISyntaxException e) {
                // fall through to the copy below
            }
        }
        Path tmp = null;
        try (InputStream in = url.openStream()) {
            tmp = Files.createTempFile(kind.fileName().replace(".so", "-"), ".so");
            Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
            loadFile(kind, tmp);
            return url.toString();
        } catch (IOException e) {
            throw new IllegalStateException("cannot extract " + resource + " to a temporary file: " + e, e);
        } finally {
            if (tmp != null) {
                try {
                    Files.deleteIfExists(tmp);  // the loaded mapping stays valid on Linux
                } catch (IOException ignored) {
                    tmp.toFile().deleteOnExit();
                }
            }
        }
    }

    private static String loadFile(Kind kind, Path file) {
        try {
            System.load(file.toAbsolutePath().toString());
        } catch (LinkageError e) {  // UnsatisfiedLinkError, or what JNI_OnLoad threw (e.g. NoClassDefFoundError)
            throw new IllegalStateException("cannot load the " + kind.label + " library " + file + ": " + e, e);
        }
        return file.toString();
    }
}
