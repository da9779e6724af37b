package dev.jtrain.nn.layers;

import dev.jtrain.nn.GradCheck;
import dev.jtrain.tensor.DType;
import dev.jtrain.tensor.Tensor;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

class PoolingTest {

    @Test
    void maxPoolGradientsWithoutTies() {
        // Inputs are a permutation of k·0.05: any two differ by >= 0.05, and h = 0.01 < 0.025 never
        // reorders a window, so the max is locally linear and central differences are exact up to
        // rounding (|x| <= 5, 2x2 windows).
        MaxPool2d p = new MaxPool2d(2, 2);
        Tensor x = GradCheck.distinct(1, 0.05, -2.5, 2, 2, 7, 7);
        GradCheck.checkLayer(p, x, true, 1e-2, 1e-4, 1e-4);
    }

    @Test
    void maxPoolOverlappingWindowsAddUp() {
        // 3x3 stride 2 windows overlap: a shared maximum gets dy from both windows (FORMAT.md item 19).
        MaxPool2d p = new MaxPool2d(3, 2);
        Tensor x = GradCheck.distinct(2, 0.05, -2.5, 2, 1, 7, 7);
        GradCheck.checkLayer(p, x, true, 1e-2, 1e-4, 1e-4);
    }

    @Test
    void maxPoolIndicesAndTiesGoToTheFirstMaximum() {
        float[] x = {
                1, 2, 2, 0,
                2, 0, 1, 2,
                0, 0, 1, 1,
                0, 0, 1, 1};
        MaxPool2d p = new MaxPool2d(2, 2);
        Tensor y = p.forward(Tensor.of(x, 1, 1, 4, 4), true);
        assertArrayEquals(new float[] {2, 2, 0, 1}, y.toFloatArray());
        Tensor idx = p.lastIndices();
        assertEquals(DType.INT64, idx.dtype());
        // window 0: 2 at (0,1)=1 before (1,0)=4; window 1: 2 at (0,2)=2 before (1,3)=7; all-zero window: (2,0)=8
        assertArrayEquals(new long[] {1, 2, 8, 10}, idx.longs());
        Tensor dx = p.backward(Tensor.of(new float[] {1, 2, 3, 4}, 1, 1, 2, 2));
        float[] expect = new float[16];
        expect[1] = 1;
        expect[2] = 2;
        expect[8] = 3;
        expect[10] = 4;
        assertArrayEquals(expect, dx.toFloatArray());
    }

    @Test
    void avgPoolGradients() {
        // Average pooling is linear: exact central differences; 7x7 input also checks the floor rule.
        AvgPool2d p = new AvgPool2d(2, 2);
        Tensor x = GradCheck.uniform(3, -1, 1, 2, 3, 7, 7);
        assertArrayEquals(new int[] {2, 3, 3, 3}, p.forward(x, true).dims());
        GradCheck.checkLayer(p, x, true, 5e-2, 1e-4, 1e-5);
    }

    @Test
    void avgPoolValues() {
        float[] x = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
        AvgPool2d p = new AvgPool2d(2, 2);
        assertArrayEquals(new float[] {3.5f, 5.5f, 11.5f, 13.5f}, p.forward(Tensor.of(x, 1, 1, 4, 4), true).toFloatArray());
    }

    @Test
    void flattenKeepsDimZeroAndRestoresShape() {
        Flatten f = new Flatten();
        Tensor x = GradCheck.uniform(4, -1, 1, 2, 3, 4, 5);
        Tensor y = f.forward(x, true);
        assertArrayEquals(new int[] {2, 60}, y.dims());
        assertSame(x.storage(), y.storage());
        Tensor dx = f.backward(GradCheck.uniform(5, -1, 1, 2, 60));
        assertArrayEquals(new int[] {2, 3, 4, 5}, dx.dims());
        GradCheck.checkLayer(f, x, true, 5e-2, 1e-4, 1e-5);
    }
}
