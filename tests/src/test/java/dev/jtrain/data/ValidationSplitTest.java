package dev.jtrain.data;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ValidationSplitTest {

    @Test
    void splitIsDisjointCompleteSizedAndOrdered() {
        Dataset d = BatchIteratorTest.toy(101);
        ValidationSplit.Parts p = ValidationSplit.split(d, 0.2, 5);
        assertEquals(20, p.validation().size()); // round(0.2 * 101) = 20
        assertEquals(81, p.train().size());
        Set<Integer> seen = new HashSet<>();
        for (Dataset part : new Dataset[] {p.train(), p.validation()}) {
            int prev = -1;
            for (int r = 0; r < part.size(); r++) {
                int i = (int) part.features()[3 * r];          // toy sample i starts with the value i
                assertEquals(i + 0.5f, part.features()[3 * r + 1]);
                assertEquals(i % 4, part.labels()[r]);
                assertTrue(i > prev, "original order kept");
                prev = i;
                assertTrue(seen.add(i), "sample " + i + " in both parts");
            }
        }
        assertEquals(101, seen.size());
        int[] val = ValidationSplit.validationIndices(101, 0.2, 5);
        for (int r = 0; r < val.length; r++) {
            assertEquals(val[r], (int) p.validation().features()[3 * r]);
        }
    }

    @Test
    void splitIsTheFirstPositionsOfTheSeededPermutation() {
        int[] perm = Permutation.of(50, 9, ValidationSplit.OFFSET);
        int[] expected = Arrays.copyOf(perm, 10);
        Arrays.sort(expected);
        assertArrayEquals(expected, ValidationSplit.validationIndices(50, 0.2, 9));
        // Deterministic from the seed, different for another seed.
        assertArrayEquals(ValidationSplit.validationIndices(50, 0.2, 9), ValidationSplit.validationIndices(50, 0.2, 9));
        assertNotEquals(Arrays.toString(ValidationSplit.validationIndices(50, 0.2, 9)),
                Arrays.toString(ValidationSplit.validationIndices(50, 0.2, 10)));
    }

    @Test
    void permutationMatchesTheIteratorsShuffle() {
        Dataset d = BatchIteratorTest.toy(37);
        BatchIterator it = new BatchIterator(d, 8, true, dev.jtrain.tensor.Device.CPU);
        it.startEpoch(11, 3);
        assertArrayEquals(Permutation.of(37, 11, 3), it.order());
    }

    @Test
    void badFractionsAreErrors() {
        Dataset d = BatchIteratorTest.toy(10);
        for (double f : new double[] {0, 1, -0.1, 1.5, Double.NaN}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ValidationSplit.split(d, f, 0));
            assertTrue(e.getMessage().contains("(0, 1)"), e.getMessage());
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ValidationSplit.split(BatchIteratorTest.toy(2), 0.9, 0));
        assertTrue(e.getMessage().contains("leaves no training sample"), e.getMessage());
        // A tiny fraction still holds out one sample.
        assertEquals(1, ValidationSplit.split(d, 0.01, 0).validation().size());
        assertFalse(ValidationSplit.split(d, 0.01, 0).train().size() != 9);
    }
}
