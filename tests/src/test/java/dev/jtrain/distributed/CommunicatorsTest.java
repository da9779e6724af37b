package dev.jtrain.distributed;

import dev.jtrain.tensor.DType;
import dev.jtrain.tensor.Device;
import dev.jtrain.tensor.Shape;
import dev.jtrain.tensor.Tensor;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The one-rank communicator: sums of one rank are the data, unchanged; arguments are checked as MPI's are. */
class CommunicatorsTest {

    @Test
    void singleIsRankZeroOfOneAndLeavesDataAsItIs() {
        Communicator c = Communicators.single();
        assertEquals(0, c.rank());
        assertEquals(1, c.size());
        float[] f = {1.5f, -2f, 3f};
        c.allReduceSum(f, 0, 3);
        assertArrayEquals(new float[] {1.5f, -2f, 3f}, f);
        double[] d = {0.1, 0.2};
        c.allReduceSum(d, 1, 1);
        assertArrayEquals(new double[] {0.1, 0.2}, d);
        byte[] b = {7, 8};
        c.broadcast(b, 0);
        assertArrayEquals(new byte[] {7, 8}, b);
        Tensor t = Tensor.of(new float[] {4f, 5f}, 2);
        c.allReduceSum(t);
        assertArrayEquals(new float[] {4f, 5f}, t.floats());
        c.barrier();
        c.close();
    }

    @Test
    void singleChecksItsArguments() {
        Communicator c = Communicators.single();
        assertThrows(IndexOutOfBoundsException.class, () -> c.allReduceSum(new float[2], 1, 2));
        assertThrows(IndexOutOfBoundsException.class, () -> c.allReduceSum(new double[2], -1, 1));
        assertThrows(IllegalArgumentException.class, () -> c.broadcast(new byte[1], 1));
        assertThrows(IllegalArgumentException.class,
                () -> c.allReduceSum(Tensor.zeros(Device.CPU, DType.INT64, Shape.of(1))));
    }
}
