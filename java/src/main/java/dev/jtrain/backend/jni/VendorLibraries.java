package dev.jtrain.backend.jni;

import java.util.ArrayList;
import java.util.List;

/**
 * What the native library found of cuBLAS and cuDNN (loaded at run time with dlopen, with no vendor header or
 * link-time dependency: docs/architecture.md, section 2): for each, whether it was found, where, which version, or
 * every place tried and why each failed. The emu library answers "not applicable on emu".
 */
public final class VendorLibraries {

    /** One vendor library as the native library sees it. */
    public record Library(String name, State state, String path, String version, String detail) {
        public boolean found() {
            return state == State.FOUND;
        }

        /** One line for {@code jtrain info}. */
        public String describe() {
            return switch (state) {
                case FOUND -> name + " " + version + " (" + path + ")";
                case MISSING -> name + ": not found (" + detail + ")";
                case NOT_APPLICABLE -> name + ": " + detail;
            };
        }
    }

    /** Whether a vendor library was found: {@code NOT_APPLICABLE} on emu, where none is used. */
    public enum State { FOUND, MISSING, NOT_APPLICABLE }

    private VendorLibraries() {
    }

    /** The report of the library behind {@code api} (loads cuBLAS/cuDNN there on first call). */
    public static List<Library> report(NativeApi api) {
        return parse(api.vendorReport());
    }

    /** Parses {@link NativeApi#vendorReport()}: name, state, path, version, detail per line, tab-separated. */
    public static List<Library> parse(String report) {
        List<Library> out = new ArrayList<>();
        for (String line : report.split("\n")) {
            if (line.isBlank()) {
                continue;
            }
            String[] f = line.split("\t", -1);
            if (f.length < 5) {
                throw new IllegalArgumentException("malformed vendor report line: " + line);
            }
            State state = switch (f[1]) {
                case "found" -> State.FOUND;
                case "missing" -> State.MISSING;
                default -> State.NOT_APPLICABLE;
            };
            out.add(new Library(f[0], state, f[2], f[3], f[4]));
        }
        return List.copyOf(out);
    }

    /** The entry for {@code name} ("cublas" or "cudnn"), or null. */
    public static Library find(List<Library> report, String name) {
        for (Library l : report) {
            if (l.name().equals(name)) {
                return l;
            }
        }
        return null;
    }
}
