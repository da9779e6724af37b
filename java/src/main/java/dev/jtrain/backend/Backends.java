package dev.jtrain.backend;

import dev.jtrain.backend.cpu.CpuBackend;
import dev.jtrain.backend.jni.CudaNative;
import dev.jtrain.backend.jni.EmuNative;
import dev.jtrain.backend.jni.NativeApi;
import dev.jtrain.backend.jni.NativeLibrary;
import dev.jtrain.backend.gpu.GpuBackend;
import dev.jtrain.backend.gpu.MemoryStats;
import dev.jtrain.tensor.Device;
import dev.jtrain.tensor.Tensor;
import dev.jtrain.tensor.TensorDevice;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The device registry: owns one backend per device ({@code cpu}, {@code emu}, {@code cuda:n}), created on
 * first use, each behind the op front {@link CheckedBackend}. A device that cannot be used (no library, no
 * GPU, an index past the device count) gives a {@link DeviceUnavailableException} with one line saying why;
 * the failure is not cached, so a later call tries again.
 */
public final class Backends {
    private static final Backend CPU = new CheckedBackend(CpuBackend.get());
    private static final Map<Device, CheckedBackend> DEVICES = new ConcurrentHashMap<>();

    private Backends() {
    }

    public static Backend cpu() {
        return CPU;
    }

    /** The checked backend of the device {@code t} lives on. */
    public static Backend of(Tensor t) {
        return forDevice(t.device());
    }

    /** Lets the tensor package find backends without depending on this package (META-INF/services). */
    public static final class TensorDeviceProvider implements TensorDevice.Provider {
        @Override
        public TensorDevice forDevice(Device device) {
            return Backends.forDevice(device);
        }
    }

    /** The checked backend of {@code device}, creating it on first use. */
    public static Backend forDevice(Device device) {
        if (device.isHost()) {
            return CPU;
        }
        CheckedBackend b = DEVICES.get(device);
        if (b != null) {
            return b;
        }
        synchronized (Backends.class) {
            return DEVICES.computeIfAbsent(device, d -> new CheckedBackend(create(d)));
        }
    }

    /** Whether the backend of {@code device} exists already (the cpu always does); creates nothing. */
    public static boolean isCreated(Device device) {
        return device.isHost() || DEVICES.containsKey(device);
    }

    /** The GPU backend of a device (emu or cuda:n), for its allocator, stream and native entry points. */
    public static GpuBackend gpu(Device device) {
        if (device.isHost()) {
            throw new IllegalArgumentException("cpu has no GPU backend");
        }
        return (GpuBackend) ((CheckedBackend) forDevice(device)).implementation();
    }

    /** The memory statistics of a device's allocator, or null for the cpu (the JVM heap). */
    public static MemoryStats memoryStats(Device device) {
        return device.isHost() ? null : gpu(device).memoryStats();
    }

    private static GpuBackend create(Device device) {
        if (device.kind() == Device.Kind.EMU) {
            String why = NativeLibrary.unavailableReason(NativeLibrary.Kind.EMU);
            if (why != null) {
                throw new DeviceUnavailableException("device emu is not available: " + why);
            }
            NativeApi api = EmuNative.api();
            return new GpuBackend(api, device, "emu: our CUDA kernels compiled for the host (" + api.buildInfo() + ")");
        }
        String why = NativeLibrary.unavailableReason(NativeLibrary.Kind.CUDA);
        if (why != null) {
            throw new DeviceUnavailableException("device " + device + " is not available: " + why);
        }
        NativeApi api = CudaNative.api();
        int count = api.deviceCount();
        if (count == 0) {
            throw new DeviceUnavailableException("device " + device + " is not available: no CUDA GPU or driver found"
                    + " (driver CUDA version " + api.driverVersion() + "); use the cpu or emu device");
        }
        if (device.index() >= count) {
            throw new DeviceUnavailableException("device " + device + " does not exist: this machine has " + count
                    + " CUDA device" + (count == 1 ? "" : "s") + " (cuda:0" + (count > 1 ? "..cuda:" + (count - 1) : "")
                    + ")");
        }
        if (device.index() != 0) {
            throw new DeviceUnavailableException("device " + device + ": only cuda:0 is supported so far (the native"
                    + " library has no device selection yet)");
        }
        return new GpuBackend(api, device, device + ": " + api.deviceName(device.index()) + " (" + api.buildInfo() + ")");
    }
}
