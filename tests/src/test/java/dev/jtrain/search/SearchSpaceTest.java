package dev.jtrain.search;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Parsing of --space: every kind of range, the order kept, and errors that name the key and what is wrong. */
class SearchSpaceTest {

    @Test
    void parsesEveryKindInOrder() {
        SearchSpace s = SearchSpace.parse(List.of("lr=log:1e-4:1e-1, weight-decay=log:1e-6:1e-2,dropout=lin:0:0.5",
                "--batch=int:16:64,optimizer=sgd|adam,hidden=128,128|256,256,augment=crop:2,flip"));
        assertEquals(List.of("lr", "weight-decay", "dropout", "batch", "optimizer", "hidden", "augment"), s.names());
        assertEquals(new Param.LogUniform("lr", 1e-4, 1e-1), s.get("lr"));
        assertEquals(new Param.LogUniform("weight-decay", 1e-6, 1e-2), s.get("weight-decay"));
        assertEquals(new Param.Uniform("dropout", 0, 0.5), s.get("dropout"));
        assertEquals(new Param.IntUniform("batch", 16, 64), s.get("batch"));
        assertEquals(new Param.Choice("optimizer", List.of("sgd", "adam")), s.get("optimizer"));
        // a choice may hold commas: only a comma that starts a new NAME= separates entries
        assertEquals(new Param.Choice("hidden", List.of("128,128", "256,256")), s.get("hidden"));
        assertEquals(new Param.Choice("augment", List.of("crop:2,flip")), s.get("augment"));
        // the spec reads back to the same space
        assertEquals(s, SearchSpace.parse(s.spec()));
        assertEquals("lr=log:0.0001:0.1,weight-decay=log:1e-6:0.01,dropout=lin:0:0.5,batch=int:16:64,optimizer=sgd|adam,"
                + "hidden=128,128|256,256,augment=crop:2,flip", s.spec());
    }

    @Test
    void badInputNamesTheKey() {
        assertError("lr=log:0:1e-1", "'lr=log:0:1e-1'", "LO > 0");
        assertError("lr=log:-1:1", "lr", "LO > 0");
        assertError("lr=log:1e-1:1e-4", "lr", "LO must be <= HI");
        assertError("dropout=lin:0", "dropout", "lin:LO:HI");
        assertError("dropout=lin:0:0.5:1", "dropout", "lin:LO:HI");
        assertError("dropout=lin:a:0.5", "dropout", "LO 'a' is not a number");
        assertError("dropout=lin:0:1e999", "dropout", "HI must be finite");
        assertError("batch=int:16:6.5", "batch", "HI '6.5' is not an integer");
        assertError("optimizer=sgd||adam", "optimizer", "empty choice");
        assertError("optimizer=sgd|adam|sgd", "optimizer", "'sgd' twice");
        assertError("lr=", "'lr' has no values");
        assertError("lr=log:1e-4:1e-1,lr=lin:0:1", "'lr' is given twice");
        assertError("lr", "'lr' is not NAME=VALUES");
        assertError("1x=0|1", "'1x' is not an option name");
        assertError(" ", "search space: empty");
    }

    private static void assertError(String text, String... words) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SearchSpace.parse(text), text);
        assertTrue(e.getMessage().startsWith("search space"), e.getMessage());
        for (String w : words) {
            assertTrue(e.getMessage().contains(w), "'" + w + "' missing from: " + e.getMessage());
        }
    }

    @Test
    void valuesAreTextsThatParseBackExactly() {
        assertEquals("0.0001", Param.text(1e-4));
        assertEquals("3.162e-5", Param.text(3.162e-5));
        assertEquals("1e-6", Param.text(1e-6));
        assertEquals("2.5e7", Param.text(2.5e7));
        assertEquals("20", Param.text(20));
        assertEquals("-0.25", Param.text(-0.25));
        for (double v : new double[] {1e-4, 3.162e-5, 1e-6, 2.5e7, 20, -0.25, 0.3652, 123456.7}) {
            assertEquals(v, Double.parseDouble(Param.text(v)), 0.0, Param.text(v));
        }
    }
}
