package dev.jtrain.backend.jni;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static dev.jtrain.backend.jni.EmuTestSupport.emu;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The vendor path (native/vendor/vendor_ops.h through jni_vendor.cpp): the capability query says what was found,
 * and where a library is absent (emu; a machine without cuBLAS/cuDNN) every vendor call fails cleanly with
 * UnsupportedOperationException saying why, before touching any argument or device memory.
 */
class VendorOpsTest {

    /** Every cuDNN entry point, called with placeholder arguments (the availability check comes first). */
    private static Map<String, Executable> cudnnCalls(NativeApi api) {
        Map<String, Executable> m = new LinkedHashMap<>();
        m.put("cudnnConv2dForward", () -> api.cudnnConv2dForward(0, 0, 0, 0, 1, 1, 3, 3, 1, 3, 3, 1, 1, 0, 0, 0));
        m.put("cudnnConv2dBackwardData", () -> api.cudnnConv2dBackwardData(0, 0, 0, 1, 1, 3, 3, 1, 3, 3, 1, 1, 0, 0, 0));
        m.put("cudnnConv2dBackwardFilter",
                () -> api.cudnnConv2dBackwardFilter(0, 0, 0, 1, 1, 3, 3, 1, 3, 3, 1, 1, 0, 0, true, 0));
        m.put("cudnnConv2dBackwardBias", () -> api.cudnnConv2dBackwardBias(0, 0, 1, 1, 1, 1, true, 0));
        m.put("cudnnBatchnormForwardTrain",
                () -> api.cudnnBatchnormForwardTrain(0, 0, 0, 1e-5f, 0.1f, 0, 0, 0, 0, 0, 1, 1, 1, 1, 0));
        m.put("cudnnBatchnormForwardInference",
                () -> api.cudnnBatchnormForwardInference(0, 0, 0, 0, 0, 1e-5f, 0, 1, 1, 1, 1, 0));
        m.put("cudnnBatchnormBackward",
                () -> api.cudnnBatchnormBackward(0, 0, 0, 0, 0, 1e-5f, 0, 0, 0, 1, 1, 1, 1, 0));
        m.put("cudnnActivationForward", () -> api.cudnnActivationForward(0, 0, 0, 1, 0f, 0));
        m.put("cudnnActivationBackward", () -> api.cudnnActivationBackward(0, 0, 0, 0, 0, 1, 0f, 0));
        m.put("cudnnPoolForward", () -> api.cudnnPoolForward(true, 0, 0, 1, 1, 2, 2, 2, 2, 2, 2, 0, 0, 0));
        m.put("cudnnPoolBackward", () -> api.cudnnPoolBackward(true, 0, 0, 0, 0, 1, 1, 2, 2, 2, 2, 2, 2, 0, 0, 0));
        return m;
    }

    @Test
    void onEmuEveryVendorCallSaysNotApplicable() {
        NativeApi api = emu();
        for (Map.Entry<String, Executable> e : cudnnCalls(api).entrySet()) {
            UnsupportedOperationException ex = assertThrows(UnsupportedOperationException.class, e.getValue(), e.getKey());
            assertTrue(ex.getMessage().startsWith(e.getKey() + ": "), ex.getMessage());
            assertTrue(ex.getMessage().contains("not applicable on emu"), ex.getMessage());
        }
        UnsupportedOperationException ex = assertThrows(UnsupportedOperationException.class,
                () -> api.cublasSgemm(false, false, 1, 1, 1, 1f, 0, 1, 0, 1, 0f, 0, 1, false, 0));
        assertTrue(ex.getMessage().contains("not applicable on emu"), ex.getMessage());
    }

    /**
     * Where libjtrain_cuda.so is built: the capability query reports each library as found (path, version, and for
     * cuDNN the groups it bound) or missing with every place tried; a missing library's calls throw
     * UnsupportedOperationException with that description, and nothing crashes (no GPU needed).
     */
    @Test
    void cudaLibraryReportsWhatItFoundAndAbsenceIsClean() {
        String why = NativeLibrary.unavailableReason(NativeLibrary.Kind.CUDA);
        assumeTrue(why == null, () -> "CUDA library not available: " + why);
        NativeApi cuda = CudaNative.api();
        List<VendorLibraries.Library> report = VendorLibraries.report(cuda);
        VendorLibraries.Library cublas = VendorLibraries.find(report, "cublas");
        VendorLibraries.Library cudnn = VendorLibraries.find(report, "cudnn");
        assertNotNull(cublas, report.toString());
        assertNotNull(cudnn, report.toString());
        assertEquals(report, VendorLibraries.report(cuda), "the query is stable (loaded once)");

        if (cublas.found()) {
            assertFalse(cublas.version().isEmpty(), cublas.toString());
            assertFalse(cublas.path().isEmpty(), cublas.toString());
        } else {
            assertEquals(VendorLibraries.State.MISSING, cublas.state());
            assertTrue(cublas.detail().startsWith("cuBLAS not found: "), cublas.detail());
            assertTrue(cublas.detail().contains("libcublas.so.1"), "names what it tried: " + cublas.detail());
            assertTrue(cublas.describe().startsWith("cublas: not found"), cublas.describe());
            UnsupportedOperationException ex = assertThrows(UnsupportedOperationException.class,
                    () -> cuda.cublasSgemm(false, false, 1, 1, 1, 1f, 0, 1, 0, 1, 0f, 0, 1, false, 0));
            assertTrue(ex.getMessage().startsWith("cublasSgemm: cuBLAS not found: "), ex.getMessage());
        }

        if (cudnn.found()) {
            assertTrue(cudnn.version().startsWith("9."), cudnn.toString());
            assertTrue(cudnn.detail().contains("ops: ") && cudnn.detail().contains("conv: "),
                    "says which op groups were bound: " + cudnn.detail());
        } else {
            assertEquals(VendorLibraries.State.MISSING, cudnn.state());
            assertTrue(cudnn.detail().startsWith("cuDNN not found: "), cudnn.detail());
            assertTrue(cudnn.detail().contains("libcudnn.so.9"), "names what it tried: " + cudnn.detail());
            for (Map.Entry<String, Executable> e : cudnnCalls(cuda).entrySet()) {
                UnsupportedOperationException ex =
                        assertThrows(UnsupportedOperationException.class, e.getValue(), e.getKey());
                assertTrue(ex.getMessage().startsWith(e.getKey() + ": cuDNN not found: "), ex.getMessage());
                assertFalse(ex.getMessage().contains("\n"), "one line: " + ex.getMessage());
            }
        }
    }
}
