package dev.jtrain.distributed;

import dev.jtrain.tensor.Device;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * NCCL's error paths, here without a GPU: devices NCCL cannot serve, a libnccl that does not exist, a library
 * that is not NCCL. The all-reduce itself needs GPUs: not measured here.
 */
class NcclCommunicatorTest {

    @Test
    void cpuAndEmuDevicesAreRefusedBeforeNcclIsLookedFor() {
        IllegalArgumentException cpu = assertThrows(IllegalArgumentException.class,
                () -> NcclCommunicator.create(Communicators.single(), Device.CPU));
        assertTrue(cpu.getMessage().contains("on cpu: NCCL needs a cuda device"), cpu.getMessage());
        IllegalArgumentException emu = assertThrows(IllegalArgumentException.class,
                () -> NcclCommunicator.create(Communicators.single(), Device.EMU));
        assertTrue(emu.getMessage().contains("on emu") && emu.getMessage().contains("host memory"), emu.getMessage());
    }

    @Test
    void aMissingLibncclIsNamedWithWhatToInstall() {
        MpiTestLaunch.requireShim();
        String old = System.setProperty(NcclCommunicator.LIBRARY_PROPERTY, "/nonexistent/libnccl.so.2");
        try {
            DistributedUnavailableException e = assertThrows(DistributedUnavailableException.class,
                    () -> NcclCommunicator.create(Communicators.single(), Device.cuda(0)));
            String m = e.getMessage();
            assertTrue(m.startsWith("NCCL not found: libnccl.so.2 could not be loaded"), m);
            assertTrue(m.contains("/nonexistent/libnccl.so.2: cannot open shared object file"), m);
            assertTrue(m.contains("only the given path was tried"), m);
            assertTrue(m.contains("libnccl2") && m.contains("nvidia-nccl-cu12"), m);
        } finally {
            restore(old);
        }
    }

    @Test
    void aLibraryThatIsNotNcclIsNamed() {
        MpiTestLaunch.requireShim();
        String old = System.setProperty(NcclCommunicator.LIBRARY_PROPERTY, "libz.so.1");
        try {
            DistributedUnavailableException e = assertThrows(DistributedUnavailableException.class,
                    () -> NcclCommunicator.create(Communicators.single(), Device.cuda(0)));
            assertTrue(e.getMessage().contains("libz.so.1: not NCCL >= 2.4 (missing ncclGetUniqueId"), e.getMessage());
        } finally {
            restore(old);
        }
    }

    private static void restore(String old) {
        if (old == null) {
            System.clearProperty(NcclCommunicator.LIBRARY_PROPERTY);
        } else {
            System.setProperty(NcclCommunicator.LIBRARY_PROPERTY, old);
        }
    }
}
