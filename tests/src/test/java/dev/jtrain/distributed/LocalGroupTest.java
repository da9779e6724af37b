package dev.jtrain.distributed;

import dev.jtrain.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LocalGroupTest {
    private static float[] values(int rank, int n) {
        Random r = new Random(100 + rank);
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) r.nextGaussian() * (1 << (i % 20)); // magnitudes where the order of additions shows
        }
        return a;
    }

    @Test
    void floatAllReduceSumsInRankOrderAndEveryRankGetsTheSameBits() {
        int size = 3;
        int n = 1000;
        float[] expected = new float[n];
        for (int i = 0; i < n; i++) {
            float s = values(0, n)[i];
            s += values(1, n)[i];
            s += values(2, n)[i];
            expected[i] = s;
        }
        List<float[]> results = LocalGroup.run(size, c -> {
            float[] a = new float[n + 2];
            System.arraycopy(values(c.rank(), n), 0, a, 1, n);
            a[0] = -7;   // outside the range: untouched
            c.allReduceSum(a, 1, n);
            assertEquals(-7f, a[0]);
            return java.util.Arrays.copyOfRange(a, 1, n + 1);
        });
        for (float[] r : results) {
            assertArrayEquals(expected, r);
        }
    }

    @Test
    void doubleAllReduceBroadcastAndHostTensor() {
        List<double[]> out = LocalGroup.run(2, c -> {
            double[] d = {c.rank() + 0.5, 10 * c.rank()};
            c.allReduceSum(d, 0, 2);
            byte[] b = c.rank() == 1 ? new byte[] {4, 5, 6} : new byte[3];
            c.broadcast(b, 1);
            Tensor t = Tensor.of(new float[] {c.rank(), 2}, 2);
            c.allReduceSum(t);
            c.barrier();
            return new double[] {d[0], d[1], b[0], b[1], b[2], t.floats()[0], t.floats()[1]};
        });
        for (double[] r : out) {
            assertArrayEquals(new double[] {2.0, 10, 4, 5, 6, 1, 4}, r);
        }
    }

    @Test
    void mismatchedLengthsFailOnEveryRank() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> LocalGroup.run(2, c -> {
            c.allReduceSum(new float[4], 0, c.rank() == 0 ? 4 : 3);
            return null;
        }));
        assertTrue(e.getMessage().contains("elements but rank"), e.getMessage());
    }

    @Test
    void aRankThatLeavesMakesTheOthersFailAtOnce() {
        // rank 1 leaves before rank 0 arrives (rank 0 sleeps first), then while rank 0 waits (rank 1 sleeps first)
        for (int[] sleeps : new int[][] {{200, 0}, {0, 200}}) {
            long t0 = System.nanoTime();
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> LocalGroup.run(2, Duration.ofSeconds(30), c -> {
                Thread.sleep(sleeps[c.rank()]);
                if (c.rank() == 1) {
                    c.close();      // a process that died
                    return null;
                }
                c.allReduceSum(new float[4], 0, 4);
                return null;
            }));
            assertTrue(e.getMessage().contains("cannot complete: rank 1 left the group"), e.getMessage());
            assertTrue(System.nanoTime() - t0 < 10_000_000_000L, "must not wait for the 30 s timeout");
        }
    }

    @Test
    void aRankThatNeverArrivesTimesOut() {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> LocalGroup.run(2, Duration.ofMillis(300), c -> {
            if (c.rank() == 0) {
                c.barrier();
            } else {
                Thread.sleep(1500);   // hangs past the others' timeout, then leaves
            }
            return null;
        }));
        assertTrue(e.getMessage().contains("waited more than"), e.getMessage());
    }

    @Test
    void singleIsANoOp() {
        try (Communicator c = Communicators.single()) {
            float[] a = {1, 2};
            c.allReduceSum(a, 0, 2);
            assertArrayEquals(new float[] {1, 2}, a);
            assertEquals(0, c.rank());
            assertEquals(1, c.size());
            assertThrows(IllegalArgumentException.class, () -> c.broadcast(new byte[1], 1));
        }
    }
}
