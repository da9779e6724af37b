package dev.jtrain.testsupport;

import dev.jtrain.backend.Backends;
import dev.jtrain.backend.gpu.MemoryStats;
import dev.jtrain.tensor.Device;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Fails a test class when the GC safety net had to free device memory of the shared emu device: some tensor,
 * layer, loss or optimizer on emu was dropped without {@code close()}. Registered for every test class
 * (META-INF/services + junit-platform.properties autodetection). The Cleaner runs when the GC finds the
 * garbage, so a leak shows up at the latest in the class that follows the one that leaked; the message
 * says so. Backends a test creates itself (e.g. to test the safety net on purpose) are not watched.
 */
public final class DeviceLeakCheck implements BeforeAllCallback, AfterAllCallback {
    private static long releasesSeen = -1;

    @Override
    public void beforeAll(ExtensionContext context) {
        MemoryStats s = stats();
        if (s != null && releasesSeen < 0) {
            releasesSeen = s.cleanerReleases();
        }
    }

    @Override
    public void afterAll(ExtensionContext context) throws InterruptedException {
        if (stats() == null) {
            return;
        }
        for (int i = 0; i < 3; i++) { // give unreachable buffers a chance to be found now, not in a later class
            System.gc();
            Thread.sleep(20);
        }
        MemoryStats s = stats();
        long released = s.cleanerReleases() - Math.max(releasesSeen, 0);
        releasesSeen = s.cleanerReleases();
        if (released > 0) {
            throw new AssertionError(released + " emu device block(s) were freed by the GC safety net instead of close(), "
                    + "found after " + context.getDisplayName() + " (the leak is in it or in the class before it); " + s);
        }
    }

    /** The shared emu device's allocator statistics, or null where the emu library is not there. */
    private static MemoryStats stats() {
        if (!Backends.isCreated(Device.EMU)) {
            return null;
        }
        return Backends.memoryStats(Device.EMU);
    }
}
