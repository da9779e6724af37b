package dev.jtrain.cli;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The CLI shows the library's messages, which name API parameters, with its option names. */
class OptionNamesTest {
    @Test
    void replacesWholeApiNamesOnly() {
        assertEquals("--lr must be a positive number, got -1.0",
                OptionNames.reword("lr must be a positive number, got -1.0", OptionNames.OPTIMIZER));
        assertEquals("--weight-decay must be >= 0, got -1.0",
                OptionNames.reword("weightDecay must be >= 0, got -1.0", OptionNames.OPTIMIZER));
        assertEquals("--nesterov needs a momentum > 0 (got --momentum 0)".replace("a momentum", "a --momentum"),
                OptionNames.reword("nesterov needs a momentum > 0 (got momentum 0)", OptionNames.OPTIMIZER));
        // lr_decay, lrs and an option already named stay as they are
        assertEquals("lr_decay and lrs and --lr", OptionNames.reword("lr_decay and lrs and --lr", OptionNames.OPTIMIZER));
        assertEquals("--space: empty (expected e.g. lr=log:1e-4:1e-1)",
                OptionNames.reword("search space: empty (expected e.g. lr=log:1e-4:1e-1)", OptionNames.SEARCH));
        assertEquals("--stochastic-depth applies to resnet (its residual blocks), not mlp",
                OptionNames.reword("stochasticDepth applies to resnet (its residual blocks), not mlp", OptionNames.MODEL));
        assertEquals("no names here", OptionNames.reword("no names here", OptionNames.MODEL));
    }
}
