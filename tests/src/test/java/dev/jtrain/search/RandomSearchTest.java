package dev.jtrain.search;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Random search: values in range, the distributions of each kind, and reproducibility from the seed. */
class RandomSearchTest {
    static final int N = 20_000;

    @Test
    void logUniformHasUniformExponents() {
        SearchSpace s = SearchSpace.parse("lr=log:1e-4:1e-1");
        List<Map<String, String>> trials = RandomSearch.sample(s, N, 1, 7);
        double sum = 0;
        double sumSq = 0;
        int belowOneThousandth = 0;
        for (Map<String, String> t : trials) {
            double v = Double.parseDouble(t.get("lr"));
            assertTrue(v >= 1e-4 && v <= 1e-1, "lr " + v + " outside [1e-4, 1e-1]");
            double e = Math.log10(v);
            sum += e;
            sumSq += e * e;
            belowOneThousandth += v < 1e-3 ? 1 : 0;
        }
        double mean = sum / N;
        double var = sumSq / N - mean * mean;
        // log10 uniform on [-4, -1]: mean -2.5, variance 3^2/12 = 0.75. Standard error of the mean: sqrt(0.75/N)
        // = 0.0061; of the variance: sqrt((mu4 - sigma^4)/N) = sqrt((9^2/80 - 0.75^2)/N) = 0.0047 (mu4 = w^4/80).
        // Tolerance: 5 standard errors (the 4-digit rounding moves log10 by < 2.2e-4).
        assertEquals(-2.5, mean, 5 * Math.sqrt(0.75 / N), "mean of log10");
        assertEquals(0.75, var, 5 * Math.sqrt((81.0 / 80 - 0.5625) / N), "variance of log10");
        // a third of the exponent range lies below 1e-3: p = 1/3, standard error sqrt(p(1-p)/N) = 0.0033
        assertEquals(1.0 / 3, belowOneThousandth / (double) N, 5 * Math.sqrt(2.0 / 9 / N), "fraction below 1e-3");
    }

    @Test
    void uniformIntAndChoiceCoverTheirRangeEvenly() {
        SearchSpace s = SearchSpace.parse("dropout=lin:0.1:0.5,batch=int:1:4,opt=sgd|adam|rmsprop");
        List<Map<String, String>> trials = RandomSearch.sample(s, N, 1, 3);
        double sum = 0;
        int[] ints = new int[5];
        Map<String, Integer> opts = new java.util.HashMap<>();
        for (Map<String, String> t : trials) {
            double d = Double.parseDouble(t.get("dropout"));
            assertTrue(d >= 0.1 && d <= 0.5, "dropout " + d);
            sum += d;
            int b = Integer.parseInt(t.get("batch"));
            assertTrue(b >= 1 && b <= 4, "batch " + b);
            ints[b]++;
            opts.merge(t.get("opt"), 1, Integer::sum);
        }
        // mean 0.3, standard error 0.4/sqrt(12 N) = 0.00082
        assertEquals(0.3, sum / N, 5 * 0.4 / Math.sqrt(12.0 * N));
        for (int b = 1; b <= 4; b++) { // each 1/4, standard error sqrt(3/16/N) = 0.0031
            assertEquals(0.25, ints[b] / (double) N, 5 * Math.sqrt(3.0 / 16 / N), "batch " + b);
        }
        assertEquals(3, opts.size());
        for (int c : opts.values()) {
            assertEquals(1.0 / 3, c / (double) N, 5 * Math.sqrt(2.0 / 9 / N));
        }
    }

    @Test
    void theSeedFixesTheTrials() {
        SearchSpace s = SearchSpace.parse("lr=log:1e-4:1e-1,dropout=lin:0:0.5");
        List<Map<String, String>> a = RandomSearch.sample(s, 8, 1, 42);
        assertEquals(a, RandomSearch.sample(s, 8, 1, 42));
        assertNotEquals(a, RandomSearch.sample(s, 8, 1, 43));
        assertNotEquals(a, RandomSearch.sample(s, 8, 2, 42), "each round draws anew");
        // more trials keep the first ones: trial k's values depend on (seed, round, k) only
        assertEquals(a, RandomSearch.sample(s, 20, 1, 42).subList(0, 8));
        // continuous values carry 4 significant digits
        for (Map<String, String> t : a) {
            String digits = new java.math.BigDecimal(t.get("lr")).stripTrailingZeros().unscaledValue().abs().toString();
            assertTrue(digits.length() <= Param.SIGNIFICANT_DIGITS, t.get("lr"));
        }
    }

    @Test
    void uniformsHave53BitsInTheUnitInterval() {
        double min = 1;
        double max = 0;
        for (int t = 0; t < 1000; t++) {
            double u = RandomSearch.uniform(5, 1, t, 0);
            assertTrue(u >= 0 && u < 1);
            min = Math.min(min, u);
            max = Math.max(max, u);
            // not a float: the low bits are used too
            assertTrue(u != (float) u || u == 0, "u " + u + " has only float precision");
        }
        assertTrue(min < 0.01 && max > 0.99, min + " " + max);
    }
}
