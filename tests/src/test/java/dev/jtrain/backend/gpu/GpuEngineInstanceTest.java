package dev.jtrain.backend.gpu;

import dev.jtrain.backend.Backends;
import dev.jtrain.backend.jni.EmuTestSupport;
import dev.jtrain.tensor.DType;
import dev.jtrain.tensor.Device;
import dev.jtrain.tensor.Shape;
import dev.jtrain.tensor.Tensor;
import dev.jtrain.tensor.TransferStats;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What belongs to one GPU engine instance (a {@link GpuBackend}) rather than to the process, on emu: its
 * memory limit (the caching allocator's cap) and its transfer counters.
 */
class GpuEngineInstanceTest {
    private static final long MIB = 1L << 20;

    private static GpuBackend freshEmu() {
        return new GpuBackend(EmuTestSupport.emu(), Device.EMU, "emu (engine instance test)", false);
    }

    @Test
    void eachEngineHasItsOwnMemoryLimitAndTheCapCountsCachedBlocks() {
        try (GpuBackend small = freshEmu(); GpuBackend large = freshEmu()) {
            long reserved = small.memoryStats().reservedBytes();
            long cap = reserved + 5 * MIB / 2; // 2.5 MiB for tensors
            small.setMemoryLimit(cap);
            large.setMemoryLimit(reserved + 16 * MIB);
            assertEquals(cap, small.allocator().memoryLimit());
            assertEquals(Long.MAX_VALUE, Backends.gpu(Device.EMU).allocator().memoryLimit(),
                    "the shared emu engine is not affected");

            Shape fourMib = Shape.of(1 << 20); // 1 Mi floats: one 4 MiB block
            DeviceOutOfMemoryException e = assertThrows(DeviceOutOfMemoryException.class,
                    () -> small.zeros(DType.FLOAT32, fourMib));
            assertTrue(e.getMessage().contains("under its limit of"), e.getMessage());
            assertTrue(e.getMessage().contains("request of " + (4 * MIB) + " bytes"), e.getMessage());
            assertEquals(4 * MIB, e.requestedBytes());
            assertEquals(0, small.memoryStats().inUseBytes(), "a refused request holds nothing");

            try (Tensor inLarge = large.zeros(DType.FLOAT32, fourMib)) {  // the other engine's cap allows it
                assertEquals(4 * MIB, large.memoryStats().inUseBytes());
            }

            // the cap counts cached blocks: 1 MiB cached + a new 2 MiB block passes 2.5 MiB, so the cache goes first
            small.zeros(DType.FLOAT32, Shape.of(1 << 18)).close();
            assertEquals(MIB, small.memoryStats().cachedBytes());
            try (Tensor twoMib = small.zeros(DType.FLOAT32, Shape.of(1 << 19))) {
                assertEquals(0, small.memoryStats().cachedBytes(), "the cache was returned to make room");
                assertEquals(2 * MIB, small.memoryStats().inUseBytes());
                // and blocks in use count: another 1 MiB would pass the cap
                assertThrows(DeviceOutOfMemoryException.class, () -> small.zeros(DType.FLOAT32, Shape.of(1 << 18)));
            }
            assertThrows(IllegalArgumentException.class, () -> small.setMemoryLimit(0));
        }
    }

    @Test
    void transfersAreCountedByTheEngineThatMadeThem() {
        Device emu = Device.EMU;
        EmuTestSupport.emu();
        try (GpuBackend other = freshEmu()) {
            TransferStats shared = Backends.forDevice(emu).transferStats();
            assertNotSame(shared, other.transferStats());
            long before = shared.bytes(TransferStats.Direction.HOST_TO_DEVICE);
            try (Tensor t = Tensor.of(new float[] {1, 2, 3, 4}, 4).to(emu)) {
                assertEquals(before + 16, shared.bytes(TransferStats.Direction.HOST_TO_DEVICE));
            }
            assertEquals(0, other.transferStats().count(TransferStats.Direction.HOST_TO_DEVICE),
                    "another engine on the same device counts only its own transfers");
            assertTrue(other.transferStats().summary().contains("emu HOST_TO_DEVICE: 0 transfers"),
                    other.transferStats().summary());
        }
    }
}
