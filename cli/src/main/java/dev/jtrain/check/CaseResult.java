package dev.jtrain.check;

import java.util.Locale;

/**
 * The result of one case (or of a file that could not be read at all: {@code name == null}, FAIL).
 *
 * @param file        the file as given (path text)
 * @param name        the case name; null for a file-level failure
 * @param op          the op, or null when unknown
 * @param status      PASS, FAIL or UNSUPPORTED
 * @param worstRatio  the largest |actual - expected| / (atol + rtol |expected|) over every compared element;
 *                    NaN when nothing was compared, +Infinity for an integer mismatch or a non-finite actual
 * @param maxAbsErr   the largest |actual - expected| (NaN when nothing was compared)
 * @param worstTensor the tensor holding the worst ratio (null when nothing was compared)
 * @param message     null for a plain PASS; else what failed or what was wrong
 */
public record CaseResult(String file, String name, String op, Status status, double worstRatio, double maxAbsErr,
                         String worstTensor, String message) {

    public boolean passed() {
        return status == Status.PASS;
    }

    /** {@code PASS|FAIL|UNSUPPORTED  file  case  op  worst=R}, then the message if any. */
    public String line() {
        StringBuilder sb = new StringBuilder();
        sb.append(status).append("  ").append(file).append("  ").append(name == null ? "-" : name)
                .append("  ").append(op == null ? "-" : op).append("  worst=").append(formatRatio(worstRatio));
        if (message != null && !message.isEmpty()) {
            sb.append("  ").append(message);
        }
        return sb.toString();
    }

    static String formatRatio(double r) {
        if (Double.isNaN(r)) {
            return "-";
        }
        if (Double.isInfinite(r)) {
            return "inf";
        }
        if (r == 0) {
            return "0";
        }
        return String.format(Locale.ROOT, "%.3g", r);
    }
}
