package dev.jtrain.check;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.SerializationFeature;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The results of a conformance run on one device, with the counts and the {@code --json} form. */
public final class CheckReport {
    private final String device;
    private final List<CaseResult> results;

    public CheckReport(String device, List<CaseResult> results) {
        this.device = device;
        this.results = List.copyOf(results);
    }

    public String device() {
        return device;
    }

    public List<CaseResult> results() {
        return results;
    }

    public int passed() {
        return count(Status.PASS);
    }

    public int failed() {
        return count(Status.FAIL);
    }

    public int unsupported() {
        return count(Status.UNSUPPORTED);
    }

    private int count(Status s) {
        int n = 0;
        for (CaseResult r : results) {
            if (r.status() == s) {
                n++;
            }
        }
        return n;
    }

    /** True when every case passed (UNSUPPORTED counts as a failure); an empty run is not a success. */
    public boolean allPassed() {
        return !results.isEmpty() && passed() == results.size();
    }

    /** The result of case {@code name} (the first one with that name), or null. */
    public CaseResult result(String name) {
        for (CaseResult r : results) {
            if (name.equals(r.name())) {
                return r;
            }
        }
        return null;
    }

    /** The last line: {@code N passed, N failed, N unsupported}. */
    public String summaryLine() {
        return passed() + " passed, " + failed() + " failed, " + unsupported() + " unsupported";
    }

    /** Every case line, then the summary line. */
    public String text() {
        StringBuilder sb = new StringBuilder();
        for (CaseResult r : results) {
            sb.append(r.line()).append('\n');
        }
        return sb.append(summaryLine()).append('\n').toString();
    }

    /** The {@code --json} document (FORMAT.md): device, counts, and one entry per case. */
    public Map<String, Object> toJsonMap() {
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("device", device);
        root.put("passed", passed());
        root.put("failed", failed());
        root.put("unsupported", unsupported());
        List<Map<String, Object>> cases = new ArrayList<>();
        for (CaseResult r : results) {
            Map<String, Object> c = new LinkedHashMap<>();
            c.put("file", r.file());
            c.put("name", r.name());
            c.put("op", r.op());
            c.put("status", r.status().name());
            c.put("worst_ratio", finiteOrNull(r.worstRatio()));
            c.put("max_abs_err", finiteOrNull(r.maxAbsErr()));
            c.put("worst_tensor", r.worstTensor());
            c.put("message", r.message());
            cases.add(c);
        }
        root.put("cases", cases);
        return root;
    }

    /** JSON has no infinity or NaN: those are written as null (the message says why). */
    private static Double finiteOrNull(double v) {
        return Double.isFinite(v) ? v : null;
    }

    public String toJson() {
        try {
            return CaseFile.MAPPER.writer().with(SerializationFeature.INDENT_OUTPUT).writeValueAsString(toJsonMap());
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write the report as JSON: " + e.getMessage(), e);
        }
    }

    public void writeJson(Path out) throws IOException {
        Path parent = out.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        Files.writeString(out, toJson() + "\n");
    }
}
