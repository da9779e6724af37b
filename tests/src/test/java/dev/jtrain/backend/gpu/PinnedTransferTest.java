package dev.jtrain.backend.gpu;

import dev.jtrain.backend.Backends;
import dev.jtrain.backend.jni.NativeApi;
import dev.jtrain.tensor.Device;
import dev.jtrain.tensor.Tensor;
import dev.jtrain.tensor.TransferStats;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Host-device copies through the pinned stager (native/jni/jni_transfer.cpp) on the GPU test device
 * ({@link TestDevices}: emu unless -Djtrain.test.gpu names another): round trips at sizes
 * around the chunk size (so both chunks alternate and the last chunk is partial), with array offsets, for
 * floats and longs; argument errors; pinned bytes counted by TransferStats; the native memcpy reference.
 */
class PinnedTransferTest {
    private static final long CHUNK = 4096; // 1024 floats or 512 longs per chunk: many chunks at small sizes

    private static NativeApi api() {
        return Backends.gpu(TestDevices.gpu()).api();
    }

    @Test
    void floatsAndLongsRoundTripThroughBothChunksAtAwkwardSizesAndOffsets() {
        NativeApi api = api();
        long stager = api.transferStagerCreate(CHUNK);
        SplittableRandom rnd = new SplittableRandom(3);
        try {
            for (int n : new int[] {1, 7, 1023, 1024, 1025, 2048, 5000, 10_007}) {
                for (int offset : new int[] {0, 3}) {
                    float[] src = new float[n + offset];
                    long[] longs = new long[n + offset];
                    for (int i = 0; i < src.length; i++) {
                        src[i] = (float) rnd.nextGaussian();
                        longs[i] = rnd.nextLong();
                    }
                    long f = api.malloc(4L * n);
                    long l = api.malloc(8L * n);
                    try {
                        api.transferFloatsToDevice(stager, src, offset, f, n, 0);
                        api.transferLongsToDevice(stager, longs, offset, l, n, 0);
                        float[] back = new float[n + 5];
                        long[] backLongs = new long[n + 5];
                        api.transferFloatsToHost(stager, f, back, 5, n, 0);
                        api.transferLongsToHost(stager, l, backLongs, 5, n, 0);
                        for (int i = 0; i < n; i++) {
                            assertEquals(Float.floatToRawIntBits(src[offset + i]), Float.floatToRawIntBits(back[5 + i]),
                                    "float " + i + " of " + n + " (offset " + offset + ")");
                            assertEquals(longs[offset + i], backLongs[5 + i], "long " + i + " of " + n);
                        }
                        for (int i = 0; i < 5; i++) {
                            assertEquals(0f, back[i], "elements before dstOffset stay untouched");
                        }
                    } finally {
                        api.free(f);
                        api.free(l);
                    }
                }
            }
        } finally {
            api.transferStagerDestroy(stager);
        }
    }

    @Test
    void badArgumentsAreNamedAndAClosedStagerIsRejected() {
        NativeApi api = api();
        assertThrows(IllegalArgumentException.class, () -> api.transferStagerCreate(100));
        assertThrows(IllegalArgumentException.class, () -> api.transferStagerCreate(4100));
        long stager = api.transferStagerCreate(CHUNK);
        long d = api.malloc(16);
        try {
            IllegalArgumentException tooMany = assertThrows(IllegalArgumentException.class,
                    () -> api.transferFloatsToDevice(stager, new float[8], 0, d, 8, 0));
            assertTrue(tooMany.getMessage().contains("dst"), tooMany.getMessage());
            assertThrows(IllegalArgumentException.class,
                    () -> api.transferFloatsToHost(stager, d, new float[2], 1, 2, 0)); // past the array's end
            assertThrows(IllegalArgumentException.class,
                    () -> api.transferFloatsToDevice(stager, new float[4], 0, d, 4, 12345)); // not a stream
        } finally {
            api.free(d);
            api.transferStagerDestroy(stager);
        }
        IllegalArgumentException closed = assertThrows(IllegalArgumentException.class,
                () -> api.transferStagerDestroy(stager));
        assertTrue(closed.getMessage().contains("stager"), closed.getMessage());
    }

    @Test
    void tensorCopiesToAGpuDeviceAreCountedAsPinned() {
        Device emu = TestDevices.gpu();
        Backends.forDevice(emu);
        long pinnedBefore = Backends.forDevice(emu).transferStats().pinnedBytes(TransferStats.Direction.HOST_TO_DEVICE);
        long pinnedBackBefore = Backends.forDevice(emu).transferStats().pinnedBytes(TransferStats.Direction.DEVICE_TO_HOST);
        float[] data = new float[3000];
        for (int i = 0; i < data.length; i++) {
            data[i] = i * 0.5f;
        }
        try (Tensor d = Tensor.of(data, 30, 100).to(emu)) {
            assertArrayEquals(data, d.to(Device.CPU).floats());
        }
        assertEquals(pinnedBefore + 12_000, Backends.forDevice(emu).transferStats().pinnedBytes(TransferStats.Direction.HOST_TO_DEVICE));
        assertEquals(pinnedBackBefore + 12_000, Backends.forDevice(emu).transferStats().pinnedBytes(TransferStats.Direction.DEVICE_TO_HOST));
        assertEquals(0, Backends.cpu().transferStats().pinnedBytes(TransferStats.Direction.HOST_TO_DEVICE));
    }

    @Test
    void theNativeMemcpyReferenceTimesEachDirectionAndKind() {
        NativeApi api = api();
        for (boolean h2d : new boolean[] {true, false}) {
            for (boolean pinned : new boolean[] {true, false}) {
                double[] s = api.transferBenchMemcpy(1 << 16, h2d, pinned, 3);
                assertEquals(2, s.length);
                assertTrue(s[0] > 0 && s[0] <= s[1], "best " + s[0] + " <= median " + s[1]);
            }
        }
        assertThrows(IllegalArgumentException.class, () -> api.transferBenchMemcpy(0, true, true, 1));
    }
}
