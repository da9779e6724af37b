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
                    + " is not available yet: the GPU Backend (layers and training on emu/cuda) is the next step;"
                    + " the CUDA kernels themselves are reachable through dev.jtrain.backend.cuda (see 'jtrain info')");
        };
    }

    public static Backend cpu() {
        return CpuBackend.get();
    }
}
