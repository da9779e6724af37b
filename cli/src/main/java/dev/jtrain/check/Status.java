package dev.jtrain.check;

/** The outcome of one case. UNSUPPORTED (an op the runner does not know) counts as a failure. */
public enum Status { PASS, FAIL, UNSUPPORTED }
