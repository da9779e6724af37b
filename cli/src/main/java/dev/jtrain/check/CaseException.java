package dev.jtrain.check;

/**
 * A problem with a case or its file that makes the case FAIL with a plain message (bad JSON, a missing
 * input, a wrong shape or dtype, a bad param). The runner adds the file and case names.
 */
public class CaseException extends RuntimeException {
    public CaseException(String message) {
        super(message);
    }

    public CaseException(String message, Throwable cause) {
        super(message, cause);
    }
}
