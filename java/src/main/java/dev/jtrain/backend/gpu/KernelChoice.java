package dev.jtrain.backend.gpu;

import java.util.Locale;

/**
 * Whose kernels a GPU backend runs ({@code --kernels}): ours ({@code custom}, the default and the only
 * choice on emu), the vendor's ({@code vendor}: GEMM through cuBLAS with TF32 off; convolution,
 * BatchNorm, pooling and activations stay ours until their cuDNN paths are wired into the backend), or
 * {@code auto}: the faster where a measurement on this device kind says so, else ours (no such
 * measurement is recorded yet, so auto runs ours).
 */
public enum KernelChoice {
    CUSTOM, VENDOR, AUTO;

    public static KernelChoice parse(String text) {
        if (text != null) {
            switch (text.trim().toLowerCase(Locale.ROOT)) {
                case "custom":
                    return CUSTOM;
                case "vendor":
                    return VENDOR;
                case "auto":
                    return AUTO;
                default:
                    break;
            }
        }
        throw new IllegalArgumentException("unknown kernel choice '" + text + "' (expected custom, vendor or auto)");
    }

    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }
}
