package dev.jtrain.backend;

/**
 * Where the windows of fractional max pooling start (Graham, 2014; PyTorch's {@code generate_intervals}): the
 * one formula every device computes, in float32, so cpu, emu and cuda pool the same windows (the kernels' copy
 * is kernels/fractional_windows.h). For window i of {@code out} windows of size {@code pool} over {@code in}
 * positions and the plane's uniform u:
 * <pre>  alpha = (float) (in - pool) / (float) (out - 1)
 *  start_i = (int) ((i + u) * alpha) - (int) (u * alpha)   (i &lt; out - 1)
 *  start_last = in - pool</pre>
 * clamped to [0, in - pool]: a no-op for u in [0, 1) and {@code out + pool - 1 <= in} (what torch draws and
 * allows); any other sample, NaN included, still gives windows inside the plane. The starts never decrease in i.
 */
public final class FractionalWindows {
    private FractionalWindows() {
    }

    /** The start of window {@code i} (0 &lt;= i &lt; out), for out &gt;= 1, pool &gt;= 1 and in &gt;= pool. */
    public static int start(float sample, int in, int out, int pool, int i) {
        int last = in - pool;
        if (i >= out - 1) {
            return last;
        }
        float alpha = (float) last / (float) (out - 1);
        long s = (long) (int) (((float) i + sample) * alpha) - (int) (sample * alpha);
        return (int) Math.max(0, Math.min(last, s));
    }

    /** Every start: torch's {@code generate_intervals(sample, in, out, pool)}. */
    public static int[] intervals(float sample, int in, int out, int pool) {
        int[] seq = new int[out];
        for (int i = 0; i < out; i++) {
            seq[i] = start(sample, in, out, pool, i);
        }
        return seq;
    }
}
