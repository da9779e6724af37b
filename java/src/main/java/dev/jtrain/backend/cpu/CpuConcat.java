package dev.jtrain.backend.cpu;

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
        int[] offsets = offsets(parts);
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
        int[] offsets = offsets(parts);
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

    /** The channel offset of each part within the whole (shapes were checked by the op front). */
    private static int[] offsets(List<Tensor> parts) {
        int[] offsets = new int[parts.size()];
        int c = 0;
        for (int k = 0; k < parts.size(); k++) {
            offsets[k] = c;
            c += parts.get(k).dim(1);
        }
        return offsets;
    }
}
