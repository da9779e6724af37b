package dev.jtrain.nn.loss;

/** How a loss reduces its per-element values: MEAN divides the sum by the element count, SUM does not. */
public enum Reduction { MEAN, SUM }
