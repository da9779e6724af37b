package dev.jtrain.backend.gpu;

import java.util.Locale;

/**
 * Whose kernels a GPU backend runs ({@code --kernels}): ours ({@code custom}, the default and the only
 * choice on emu), the vendor's ({@code vendor}: GEMM through cuBLAS with TF32 off; convolutions, pooling,
 * BatchNorm and relu/sigmoid/tanh/elu through cuDNN where it is found (the max-pooling forward stays ours), see
 * {@link GpuBackend#useKernels}), or {@code auto}: the faster where a measurement on this device kind
 * says so, else ours (no GPU has measured them yet, so auto runs ours).
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
