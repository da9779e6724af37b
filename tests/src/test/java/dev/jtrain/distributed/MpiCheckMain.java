package dev.jtrain.distributed;

import dev.jtrain.backend.jni.NativeLibrary;
import dev.jtrain.tensor.DType;
import dev.jtrain.tensor.Device;
import dev.jtrain.tensor.Shape;
import dev.jtrain.tensor.Tensor;

import java.util.Arrays;

/**
 * Run by {@link MpiCommunicatorTest} under {@code mpirun -np N}: every rank checks MPI_COMM_WORLD through
 * {@link MpiCommunicator} against sums it computes itself, and prints {@code MPI-CHECK rank R/N OK <checks>}
 * or {@code MPI-CHECK rank R FAIL: <what>} (then exits 1, so mpirun ends the job).
 *
 * <p>The values are small dyadic rationals, so every sum is exact in float and double whatever the reduction
 * order: the expected arrays are exact, and all ranks must hold the same bits.
 *
 * <p>{@code args[0]}: the expected number of ranks. With {@code env} as args[0] (run without mpirun) it prints
 * which communicator {@link Communicators#fromEnvironment()} gives, or the exception's message; with
 * {@code abort}, the last rank calls {@link MpiCommunicator#abort} while the others wait in a barrier.
 */
public final class MpiCheckMain {

    private static int checks;
    private static int rank = -1;

    public static void main(String[] args) throws Exception {
        if (args.length == 1 && args[0].equals("env")) {
            try (Communicator c = Communicators.fromEnvironment()) {
                System.out.println("MPI-ENV " + c.getClass().getSimpleName() + " " + c.rank() + "/" + c.size());
            } catch (RuntimeException e) {
                System.out.println("MPI-ENV " + e.getClass().getSimpleName() + ": " + e.getMessage());
            }
            return;
        }
        if (args.length == 1 && args[0].equals("abort")) {
            // The last rank aborts while the others wait in a barrier: mpirun must end them all with its code.
            MpiCommunicator c = MpiCommunicator.world();
            if (c.rank() == c.size() - 1) {
                System.out.println("MPI-ABORT rank " + c.rank() + " aborts with 7");
                System.out.flush();
                c.abort(7);
            }
            c.barrier();
            System.out.println("MPI-ABORT rank " + c.rank() + " left the barrier");
            return;
        }
        int expectedSize = Integer.parseInt(args[0]);
        try {
            run(expectedSize);
        } catch (Throwable t) {
            System.out.println("MPI-CHECK rank " + rank + " FAIL: " + t);
            t.printStackTrace(System.out);
            System.out.flush();
            System.exit(1);
        }
    }

    private static void run(int expectedSize) throws Exception {
        MpiCommunicator c = (MpiCommunicator) Communicators.fromEnvironment();
        rank = c.rank();
        int n = c.size();
        check(n == expectedSize, "size " + n + ", expected " + expectedSize);
        check(rank == Integer.parseInt(System.getenv("OMPI_COMM_WORLD_RANK")), "rank " + rank + " vs mpirun's");
        check(Communicators.fromEnvironment() == c, "fromEnvironment() returns the one world communicator");

        for (int len : new int[] {0, 1, 7, 1000, 4 * 1024 * 1024 + 3}) {   // the last: 16 MiB + 12 bytes
            floats(c, len, 0);
        }
        floats(c, 100, 37);                                               // a sub-range: the rest untouched
        // Chunked: at most 1000 floats per MPI call, so the 16 MiB array takes 4195 calls.
        MpiNative.setChunkElements(1000);
        floats(c, 4 * 1024 * 1024 + 3, 5);
        doubles(c, 100_003, 3);
        MpiNative.setChunkElements(Integer.MAX_VALUE);   // one call for every array below
        for (int len : new int[] {0, 1, 5, 100_003}) {
            doubles(c, len, 0);
        }

        broadcasts(c);
        barrierWaitsForTheSlowestRank(c);
        tensors(c);
        badArguments(c);

        MpiNative.setChunkElements(MpiCommunicator.chunkElements());
        for (boolean chunked : new boolean[] {false, true}) {
            double s = c.nativeAllReduceSeconds(1024, 1, 3, chunked);
            check(s > 0 && s < 10, "native all-reduce time " + s);
        }

        c.close();
        c.close();   // idempotent
        try {
            MpiCommunicator.world();
            check(false, "world() after close must throw");
        } catch (DistributedUnavailableException e) {
            check(e.getMessage().contains("cannot be initialised twice"), e.getMessage());
        }
        System.out.println("MPI-CHECK rank " + rank + "/" + n + " OK " + checks);
    }

    private static float floatValue(int r, int i) {
        return (r + 1) * 0.25f * ((i % 97) - 48);   // multiples of 1/4 below 2^12: exact sums
    }

    private static void floats(Communicator c, int len, int offset) {
        int n = c.size();
        float[] a = new float[len + 2 * offset];
        for (int i = 0; i < a.length; i++) {
            a[i] = floatValue(c.rank(), i);
        }
        c.allReduceSum(a, offset, len);
        for (int i = 0; i < a.length; i++) {
            float expected = 0;
            if (i >= offset && i < offset + len) {
                for (int r = 0; r < n; r++) {
                    expected += floatValue(r, i);
                }
            } else {
                expected = floatValue(c.rank(), i);
            }
            if (Float.floatToRawIntBits(a[i]) != Float.floatToRawIntBits(expected)) {
                check(false, "float all-reduce of " + len + " at offset " + offset + ": [" + i + "] = " + a[i]
                        + ", expected " + expected);
            }
        }
        sameOnAllRanks(c, Arrays.hashCode(Arrays.copyOfRange(a, offset, offset + len)), "float all-reduce of " + len);
        checks++;
    }

    private static void doubles(Communicator c, int len, int offset) {
        int n = c.size();
        double[] a = new double[len + 2 * offset];
        for (int i = 0; i < a.length; i++) {
            a[i] = (c.rank() + 1) * (i + 0.5);
        }
        c.allReduceSum(a, offset, len);
        for (int i = 0; i < a.length; i++) {
            double expected = i >= offset && i < offset + len ? n * (n + 1) / 2.0 * (i + 0.5) : (c.rank() + 1) * (i + 0.5);
            if (Double.doubleToRawLongBits(a[i]) != Double.doubleToRawLongBits(expected)) {
                check(false, "double all-reduce of " + len + ": [" + i + "] = " + a[i] + ", expected " + expected);
            }
        }
        sameOnAllRanks(c, Arrays.hashCode(Arrays.copyOfRange(a, offset, offset + len)), "double all-reduce of " + len);
        checks++;
    }

    /** Root's hash to every rank through broadcast: the caller's must equal it. */
    private static void sameOnAllRanks(Communicator c, int hash, String what) {
        byte[] b = new byte[4];
        if (c.rank() == 0) {
            b = java.nio.ByteBuffer.allocate(4).putInt(hash).array();
        }
        c.broadcast(b, 0);
        check(java.nio.ByteBuffer.wrap(b).getInt() == hash, what + ": ranks hold different bits");
    }

    private static void broadcasts(Communicator c) {
        for (int root : new int[] {0, c.size() - 1}) {
            for (int len : new int[] {0, 1, 4099}) {
                byte[] b = new byte[len];
                if (c.rank() == root) {
                    for (int i = 0; i < len; i++) {
                        b[i] = (byte) (i * 31 + root + 1);
                    }
                }
                c.broadcast(b, root);
                for (int i = 0; i < len; i++) {
                    check(b[i] == (byte) (i * 31 + root + 1), "broadcast from " + root + " of " + len + ": byte " + i);
                }
                checks++;
            }
        }
    }

    /** Rank 0 enters the barrier 400 ms late: every other rank must wait for it. */
    private static void barrierWaitsForTheSlowestRank(Communicator c) throws InterruptedException {
        c.barrier();
        if (c.rank() == 0) {
            Thread.sleep(400);
        }
        long t0 = System.nanoTime();
        c.barrier();
        long waitedMs = (System.nanoTime() - t0) / 1_000_000;
        if (c.rank() != 0) {
            check(waitedMs >= 300, "rank " + c.rank() + " left the barrier after " + waitedMs + " ms, before rank 0 came");
        }
        checks++;
    }

    private static void tensors(Communicator c) {
        int n = c.size();
        float sum = n * (n + 1) / 2f;
        Tensor host = Tensor.of(new float[] {c.rank() + 1, 2f * (c.rank() + 1), -0.5f * (c.rank() + 1)}, 3);
        c.allReduceSum(host);
        check(Arrays.equals(host.floats(), new float[] {sum, 2 * sum, -0.5f * sum}),
                "cpu tensor all-reduce: " + Arrays.toString(host.floats()));
        checks++;
        if (NativeLibrary.isAvailable(NativeLibrary.Kind.EMU)) {   // emu: through a host copy
            try (Tensor emu = host.to(Device.EMU)) {
                c.allReduceSum(emu);
                try (Tensor back = emu.to(Device.CPU)) {
                    check(Arrays.equals(back.floats(), new float[] {n * sum, 2 * n * sum, -0.5f * n * sum}),
                            "emu tensor all-reduce: " + Arrays.toString(back.floats()));
                }
            }
            checks++;
        }
    }

    private static void badArguments(Communicator c) {
        expect(IllegalArgumentException.class, () -> c.broadcast(new byte[1], c.size()), "root " + c.size());
        expect(IllegalArgumentException.class, () -> c.broadcast(new byte[1], -1), "root -1");
        expect(IndexOutOfBoundsException.class, () -> c.allReduceSum(new float[4], 2, 3), "");
        expect(IndexOutOfBoundsException.class, () -> c.allReduceSum(new double[4], -1, 1), "");
        expect(NullPointerException.class, () -> c.allReduceSum((float[]) null, 0, 0), "data");
        expect(IllegalArgumentException.class,
                () -> c.allReduceSum(Tensor.zeros(Device.CPU, DType.INT64, Shape.of(2))), "float32");
    }

    private static void expect(Class<? extends Throwable> type, Runnable r, String inMessage) {
        try {
            r.run();
        } catch (Throwable t) {
            check(type.isInstance(t) && String.valueOf(t.getMessage()).contains(inMessage),
                    "expected " + type.getSimpleName() + " containing '" + inMessage + "', got " + t);
            checks++;
            return;
        }
        check(false, "expected " + type.getSimpleName() + ", nothing thrown");
    }

    private static void check(boolean ok, String what) {
        if (!ok) {
            throw new AssertionError(what);
        }
    }
}
