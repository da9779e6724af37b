package dev.jtrain.backend.cpu;

import dev.jtrain.backend.ConvSpec;

/**
 * The col2im of the convolutions' input gradients at batch 128, scalar ({@link CpuConv#col2im}) and vector
 * ({@link CpuCol2imVector}) timed alternately in one JVM on the same columns: ROUNDS rounds of each, the first
 * quarter warm-up, the minimum per variant. Alternating in one process keeps the ratio meaningful on a shared,
 * loaded machine.
 *
 * <pre>
 * java --add-modules jdk.incubator.vector -cp bench/target/benchmarks.jar dev.jtrain.backend.cpu.Col2imAbComparison 40
 * </pre>
 */
public class Col2imAbComparison {
    public static void main(String[] a) {
        int rounds = a.length > 0 ? Integer.parseInt(a[0]) : 40;
        // cin, h = w, kernel, padding of the layer whose dx is computed
        int[][] shapes = {{6, 14, 5, 0}, {32, 14, 3, 1}, {1, 28, 5, 2}};
        String[] names = {"lenet2", "cnn2", "lenet1"};
        for (int si = 0; si < shapes.length; si++) {
            int n = 128;
            int cin = shapes[si][0];
            int hw = shapes[si][1];
            int kk = shapes[si][2];
            int pad = shapes[si][3];
            ConvSpec s = ConvSpec.square(kk, 1, pad);
            int oh = hw + 2 * pad - kk + 1;
            int p = oh * oh;
            int k = cin * kk * kk;
            int ld = n * p;
            int slack = CpuCol2imVector.slack(s);
            float[] dcol = new float[k * ld + 2 * slack];
            java.util.Random r = new java.util.Random(1);
            for (int i = 0; i < dcol.length; i++) {
                dcol[i] = (float) r.nextGaussian();
            }
            int xs = cin * hw * hw;
            float[] dx = new float[n * xs];
            double[] best = {Double.MAX_VALUE, Double.MAX_VALUE};
            for (int round = 0; round < rounds; round++) {
                for (int v = 0; v < 2; v++) {
                    long t0 = System.nanoTime();
                    if (v == 0) {
                        for (int t = 0; t < n; t++) {
                            CpuConv.col2im(dcol, slack + t * p, ld, cin, hw, hw, oh, oh, s, dx, t * xs);
                        }
                    } else {
                        CpuCol2imVector.Plan plan = CpuCol2imVector.plan(hw, hw, oh, oh, ld, s);
                        for (int t = 0; t < n; t++) {
                            CpuCol2imVector.col2im(dcol, slack + t * p, ld, cin, s, plan, dx, t * xs);
                        }
                    }
                    double us = (System.nanoTime() - t0) / 1e3;
                    if (round >= rounds / 4) {
                        best[v] = Math.min(best[v], us);
                    }
                }
            }
            System.out.printf("%-7s dx col2im, batch %d: scalar %8.1f us, vector %8.1f us (%.2fx)%n",
                    names[si], n, best[0], best[1], best[0] / best[1]);
        }
    }
}
