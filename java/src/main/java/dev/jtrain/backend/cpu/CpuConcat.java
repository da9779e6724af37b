package dev.jtrain.backend.cpu;

import dev.jtrain.backend.Checks;
import dev.jtrain.tensor.Device;
import dev.jtrain.tensor.Tensor;

import java.util.List;

/**
 * Concatenation along dim 1 and its inverse, over [N, C, inner] views (any rank >= 2): part k is
 * [N, C_k, inner] and the whole is [N, sum C_k, inner]. Used by Graph concat nodes (forward) and
 * their backward (split). Plain row copies: each (n, part) pair is one contiguous block of C_k·inner.
 */
final class CpuConcat {
    private CpuConcat() {
    }

    static void concatDim1(List<Tensor> parts, Tensor out) {
        int[] offsets = check("concatDim1", parts, out, "out");
        float[] o = out.floats();
        int n = out.dim(0);
        int inner = out.shape().size(2, out.rank());
        int rowOut = out.dim(1) * inner;
        for (int k = 0; k < parts.size(); k++) {
            Tensor p = parts.get(k);
            float[] a = p.floats();
            int block = p.dim(1) * inner;
            int dst = offsets[k] * inner;
            for (int i = 0; i < n; i++) {
                System.arraycopy(a, i * block, o, i * rowOut + dst, block);
            }
        }
    }

    static void splitDim1(Tensor in, List<Tensor> parts) {
        int[] offsets = check("splitDim1", parts, in, "in");
        float[] src = in.floats();
        int n = in.dim(0);
        int inner = in.shape().size(2, in.rank());
        int rowIn = in.dim(1) * inner;
        for (int k = 0; k < parts.size(); k++) {
            Tensor p = parts.get(k);
            float[] a = p.floats();
            int block = p.dim(1) * inner;
            int from = offsets[k] * inner;
            for (int i = 0; i < n; i++) {
                System.arraycopy(src, i * rowIn + from, a, i * block, block);
            }
        }
    }

    /** Validates shapes; returns the channel offset of each part within the whole. */
    private static int[] check(String op, List<Tensor> parts, Tensor whole, String wholeName) {
        Device cpu = Device.CPU;
        Checks.f32(op, wholeName, whole, cpu);
        if (parts == null || parts.isEmpty()) {
            throw Checks.fail(op, "parts is empty");
        }
        if (whole.rank() < 2) {
            throw Checks.fail(op, wholeName + " has shape " + whole.shape() + " but rank >= 2 is needed");
        }
        int[] offsets = new int[parts.size()];
        int c = 0;
        for (int k = 0; k < parts.size(); k++) {
            Tensor p = Checks.f32(op, "parts[" + k + "]", parts.get(k), cpu);
            boolean ok = p.rank() == whole.rank();
            for (int d = 0; ok && d < p.rank(); d++) {
                ok = d == 1 || p.dim(d) == whole.dim(d);
            }
            if (!ok) {
                throw Checks.fail(op, "parts[" + k + "] has shape " + p.shape() + " but " + wholeName + " has shape "
                        + whole.shape() + " (all dims but dim 1 must match)");
            }
            offsets[k] = c;
            c += p.dim(1);
        }
        if (c != whole.dim(1)) {
            throw Checks.fail(op, "the parts have " + c + " channels along dim 1 in all but " + wholeName + " has "
                    + whole.dim(1) + " (shape " + whole.shape() + ")");
        }
        return offsets;
    }
}
