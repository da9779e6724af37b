package dev.jtrain.backend;

import dev.jtrain.backend.cpu.CpuBackend;
import dev.jtrain.tensor.Device;

/** Finds the backend of a device. The cpu backend always exists; GPU backends arrive with issue 4. */
public final class Backends {
    private Backends() {
    }

    public static Backend forDevice(Device device) {
        return switch (device.kind()) {
            case CPU -> CpuBackend.get();
            case EMU, CUDA -> throw new UnsupportedOperationException("device " + device
                    + " is not available: the GPU backend (CUDA and emu) is not built into this version yet");
        };
    }

    public static Backend cpu() {
        return CpuBackend.get();
    }
}
