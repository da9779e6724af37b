package dev.jtrain.backend.jni;

import dev.jtrain.tensor.Device;

/**
 * The {@code emu} device's runtime: device memory is host memory managed by the emulated CUDA runtime
 * of libjtrain_emu.so. {@link #get()} loads the library on first use and throws
 * {@link IllegalStateException} saying why when it cannot ("emu library not found in the jar: build with
 * cmake (see README)").
 */
public final class EmuDeviceRuntime extends NativeDeviceRuntime {
    private static volatile EmuDeviceRuntime instance;

    private EmuDeviceRuntime(NativeApi api) {
        super(api, Device.EMU);
    }

    public static EmuDeviceRuntime get() {
        EmuDeviceRuntime r = instance;
        if (r == null) {
            synchronized (EmuDeviceRuntime.class) {
                r = instance;
                if (r == null) {
                    r = new EmuDeviceRuntime(EmuNative.api());
                    instance = r;
                }
            }
        }
        return r;
    }
}
