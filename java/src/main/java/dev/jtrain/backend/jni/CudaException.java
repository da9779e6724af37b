package dev.jtrain.backend.jni;

/**
 * A CUDA runtime call, kernel launch or vendor library call (cuBLAS, cuDNN) that failed behind JNI. The
 * native library throws it with the failing call, the numeric status with its name and description,
 * the op (the Java entry point) and, on emu, the emulation's detail (kernel, block, barrier site), e.g.
 * {@code "reduceSum: jt_reduce_sum failed: cudaErrorLaunchFailure (719): unspecified launch failure"}.
 */
public class CudaException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final String call;
    private final int statusCode;
    private final String statusName;
    private final String statusString;
    private final String op;
    private final String detail;

    public CudaException(String call, int statusCode, String statusName, String statusString, String op) {
        this(call, statusCode, statusName, statusString, op, "");
    }

    /** The constructor the native library calls (jni_common.cpp). */
    public CudaException(String call, int statusCode, String statusName, String statusString, String op,
                         String detail) {
        super(message(call, statusCode, statusName, statusString, op, detail));
        this.call = nz(call);
        this.statusCode = statusCode;
        this.statusName = nz(statusName);
        this.statusString = nz(statusString);
        this.op = nz(op);
        this.detail = nz(detail);
    }

    private static String nz(String s) {
        return s == null ? "" : s;
    }

    private static String message(String call, int code, String name, String string, String op, String detail) {
        StringBuilder sb = new StringBuilder();
        if (op != null && !op.isEmpty()) {
            sb.append(op).append(": ");
        }
        sb.append(nz(call)).append(" failed: ").append(nz(name)).append(" (").append(code).append(")");
        if (string != null && !string.isEmpty() && !string.equals(name)) {
            sb.append(": ").append(string);
        }
        if (detail != null && !detail.isEmpty()) {
            sb.append(" [").append(detail).append(']');
        }
        return sb.toString();
    }

    /**
     * True when the device (or the emu's memory limit) is out of memory: cudaErrorMemoryAllocation, or a
     * vendor library's allocation failure (CUBLAS_STATUS_ALLOC_FAILED, CUDNN_STATUS_ALLOC_FAILED).
     */
    public boolean isOutOfMemory() {
        return statusName.equals("cudaErrorMemoryAllocation") || statusName.endsWith("_STATUS_ALLOC_FAILED");
    }

    /** The failing native call, e.g. "cudaMalloc", "jt_gemm_sgemm_config", "cublasSgemm_v2". */
    public String call() {
        return call;
    }

    /** The numeric status (cudaError_t, cublasStatus_t or cudnnStatus_t). */
    public int statusCode() {
        return statusCode;
    }

    /** e.g. "cudaErrorLaunchFailure", "CUBLAS_STATUS_NOT_INITIALIZED". */
    public String statusName() {
        return statusName;
    }

    /** The library's description of the status. */
    public String statusString() {
        return statusString;
    }

    /** The Java entry point that made the call, e.g. "gemmSgemm". */
    public String op() {
        return op;
    }

    /** The emu's detail of the failure (kernel, block, threads, barrier site), or "". */
    public String detail() {
        return detail;
    }
}
