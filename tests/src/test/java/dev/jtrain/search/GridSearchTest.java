package dev.jtrain.search;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Grid search: the exact points of each kind, and the cartesian product in nested-loop order. */
class GridSearchTest {

    @Test
    void pointsOfEachKind() {
        assertEquals(List.of("0.0001", "0.001", "0.01"), Param.parse("lr", "log:1e-4:1e-2").grid(3));
        // 10^(-4 + 2i/3): 1e-4, 4.642e-4, 2.154e-3, 1e-2 (4 significant digits)
        assertEquals(List.of("0.0001", "0.0004642", "0.002154", "0.01"), Param.parse("lr", "log:1e-4:1e-2").grid(4));
        assertEquals(List.of("0.001"), Param.parse("lr", "log:1e-4:1e-2").grid(1), "one point: the geometric middle");
        assertEquals(List.of("0", "0.125", "0.25", "0.375", "0.5"), Param.parse("d", "lin:0:0.5").grid(5));
        assertEquals(List.of("0.25"), Param.parse("d", "lin:0:0.5").grid(1));
        assertEquals(List.of("16", "40", "64"), Param.parse("b", "int:16:64").grid(3));
        assertEquals(List.of("1", "2", "3"), Param.parse("b", "int:1:3").grid(7), "an int range gives each integer once");
        assertEquals(List.of("sgd", "adam"), Param.parse("o", "sgd|adam").grid(5), "a list gives every choice");
    }

    @Test
    void productInNestedLoopOrder() {
        SearchSpace s = SearchSpace.parse("lr=log:1e-4:1e-2,opt=sgd|adam,dropout=lin:0:0.5");
        assertEquals(18, GridSearch.size(s, 3));
        List<Map<String, String>> g = GridSearch.combinations(s, 3);
        assertEquals(18, g.size());
        assertEquals(Map.of("lr", "0.0001", "opt", "sgd", "dropout", "0"), g.get(0));
        assertEquals(Map.of("lr", "0.0001", "opt", "sgd", "dropout", "0.25"), g.get(1));
        assertEquals(Map.of("lr", "0.0001", "opt", "adam", "dropout", "0"), g.get(3));
        assertEquals(Map.of("lr", "0.001", "opt", "sgd", "dropout", "0"), g.get(6));
        assertEquals(Map.of("lr", "0.01", "opt", "adam", "dropout", "0.5"), g.get(17));
        assertEquals(18, g.stream().distinct().count());
        assertEquals(List.of("lr", "opt", "dropout"), List.copyOf(g.get(5).keySet()), "values in the space's order");
        assertEquals(2 * 2 * 2, GridSearch.combinations(s, 2).size());
        assertThrows(IllegalArgumentException.class, () -> GridSearch.combinations(s, 0));
    }
}
