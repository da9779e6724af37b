package dev.jtrain.tensor;

import java.util.Locale;

/**
 * Where a tensor lives: {@code cpu} (the pure-Java backend), {@code emu} (the CUDA backend run on the
 * host through the emulated CUDA model) or {@code cuda:n} (a real GPU).
 */
public record Device(Kind kind, int index) {

    /** The kind of device: the host, the emulated GPU, or a CUDA GPU. */
    public enum Kind { CPU, EMU, CUDA }

    public static final Device CPU = new Device(Kind.CPU, 0);
    public static final Device EMU = new Device(Kind.EMU, 0);

    public Device {
        if (index < 0) {
            throw new IllegalArgumentException("device index must be >= 0, got " + index);
        }
        if (kind != Kind.CUDA && index != 0) {
            throw new IllegalArgumentException(kind.name().toLowerCase(Locale.ROOT) + " has no device index");
        }
    }

    /** CUDA device {@code index} (only 0 can be used today: the native library selects no other). */
    public static Device cuda(int index) {
        return new Device(Kind.CUDA, index);
    }

    /** Parses {@code cpu}, {@code emu}, {@code cuda} or {@code cuda:N}; the error names the bad text. */
    public static Device parse(String text) {
        if (text == null) {
            throw new IllegalArgumentException("device is missing (expected cpu, emu, cuda or cuda:N)");
        }
        String t = text.trim().toLowerCase(Locale.ROOT);
        switch (t) {
            case "cpu":
                return CPU;
            case "emu":
                return EMU;
            case "cuda":
                return cuda(0);
            default:
                if (t.startsWith("cuda:")) {
                    try {
                        return cuda(Integer.parseInt(t.substring(5)));
                    } catch (NumberFormatException e) {
                        // fall through to the error below
                    }
                }
                throw new IllegalArgumentException(
                        "unknown device '" + text + "' (expected cpu, emu, cuda or cuda:N)");
        }
    }

    public boolean isHost() {
        return kind == Kind.CPU;
    }

    @Override
    public String toString() {
        return switch (kind) {
            case CPU -> "cpu";
            case EMU -> "emu";
            case CUDA -> "cuda:" + index;
        };
    }
}
