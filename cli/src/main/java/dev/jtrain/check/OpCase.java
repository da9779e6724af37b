package dev.jtrain.check;

import java.util.Set;

/**
 * The handler of one op family: it builds the library's own layer / loss / optimizer / schedule /
 * regularizer / initializer from the case's params, feeds it the case's inputs on the chosen device and
 * puts the results in the {@link CaseContext}. It holds no formulas of its own; the runner compares.
 */
public interface OpCase {

    /** The ops (the cases' "op" field) this handler runs. */
    Set<String> ops();

    /** Runs one case; any exception becomes a FAIL with its message. */
    void run(CaseContext ctx) throws Exception;
}
