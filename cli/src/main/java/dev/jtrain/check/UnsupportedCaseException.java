package dev.jtrain.check;

/** A case of a known op that asks for something the library does not implement: reported as UNSUPPORTED. */
public class UnsupportedCaseException extends CaseException {
    public UnsupportedCaseException(String message) {
        super(message);
    }
}
