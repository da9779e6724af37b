package dev.jtrain.backend.cpu;

import dev.jtrain.backend.FractionalWindows;

import java.util.Arrays;

/**
 * Fractional max pooling (Backend.fractionalMaxPool2d*) over the (n, c) planes of NCHW tensors: each plane's
 * window starts come from its two samples (u_w, u_h) by {@link FractionalWindows}; the maximum is the first
 * largest value in row-major order (replace when v &gt; best or v is NaN, torch's rule), its flat index h * W + w
 * within the plane is recorded, and the backward adds dy at each argmax in output order (overlapping windows
 * accumulate; the GPU gather adds in the same order, so the bits agree). Planes are independent tasks.
 */
final class CpuFractionalPooling {
    private CpuFractionalPooling() {
    }

    static void forward(float[] x, float[] samples, float[] y, long[] idx, int planes, int h, int w, int oh, int ow,
                        int kh, int kw) {
        CpuLoops.forTasks(planes, (long) planes * oh * ow * kh * kw, p -> {
            int[] rows = FractionalWindows.intervals(samples[2 * p + 1], h, oh, kh);
            int[] cols = FractionalWindows.intervals(samples[2 * p], w, ow, kw);
            int xb = p * h * w;
            int yb = p * oh * ow;
            for (int i = 0; i < oh; i++) {
                for (int j = 0; j < ow; j++) {
                    int best = rows[i] * w + cols[j];
                    float bestVal = Float.NEGATIVE_INFINITY;
                    for (int r = rows[i]; r < rows[i] + kh; r++) {
                        for (int s = cols[j]; s < cols[j] + kw; s++) {
                            float v = x[xb + r * w + s];
                            if (v > bestVal || Float.isNaN(v)) {
                                bestVal = v;
                                best = r * w + s;
                            }
                        }
                    }
                    y[yb + i * ow + j] = bestVal;
                    if (idx != null) {
                        idx[yb + i * ow + j] = best;
                    }
                }
            }
        });
    }

    /**
     * dx = 0, then dx[plane, idx] += dy in output order. Returns -1 when every index lay inside its own window,
     * else the position of the first that did not (dx is then incomplete; bad indices route nothing).
     */
    static long backward(float[] dy, long[] idx, float[] samples, float[] dx, int planes, int h, int w, int oh,
                         int ow, int kh, int kw) {
        long[] bad = {-1};
        int hw = h * w;
        int ohw = oh * ow;
        CpuLoops.forTasks(planes, (long) planes * (hw + ohw), p -> {
            int[] rows = FractionalWindows.intervals(samples[2 * p + 1], h, oh, kh);
            int[] cols = FractionalWindows.intervals(samples[2 * p], w, ow, kw);
            int xb = p * hw;
            int yb = p * ohw;
            Arrays.fill(dx, xb, xb + hw, 0f);
            for (int o = 0; o < ohw; o++) {
                long at = idx[yb + o];
                int i = o / ow;
                int j = o - i * ow;
                long r = at >= 0 ? at / w : -1;
                long s = at >= 0 ? at - r * w : -1;
                if (at < 0 || at >= hw || r < rows[i] || r >= rows[i] + kh || s < cols[j] || s >= cols[j] + kw) {
                    synchronized (bad) {
                        if (bad[0] < 0 || yb + o < bad[0]) {
                            bad[0] = yb + o;
                        }
                    }
                    continue;
                }
                dx[xb + (int) at] += dy[yb + o];
            }
        });
        return bad[0];
    }
}
