package dev.jtrain.check;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.MissingNode;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One case of a file, read lazily: its name and op are taken at once (a case without them still gets a
 * result line), its tensors when a handler asks, so a malformed tensor fails only its own case.
 */
public final class CaseData {
    /** The sections that hold tensors. */
    public static final List<String> SECTIONS = List.of("inputs", "outputs", "grads", "outputs_f64", "grads_f64");

    private final Path file;
    private final int index;
    private final JsonNode node;
    private final Map<String, Map<String, CaseTensor>> parsed = new LinkedHashMap<>();

    CaseData(Path file, int index, JsonNode node) {
        this.file = file;
        this.index = index;
        this.node = node == null ? MissingNode.getInstance() : node;
    }

    public Path file() {
        return file;
    }

    public int index() {
        return index;
    }

    public JsonNode json() {
        return node;
    }

    /** The case name, or null when missing. */
    public String name() {
        JsonNode n = node.get("name");
        return n != null && n.isTextual() ? n.asText() : null;
    }

    /** The name for messages: the "name" field or "case #i". */
    public String displayName() {
        String n = name();
        return n != null ? n : "case #" + index;
    }

    /** The op, or null when missing. */
    public String op() {
        JsonNode n = node.get("op");
        return n != null && n.isTextual() ? n.asText() : null;
    }

    /** The params object (empty object node when missing). */
    public JsonNode params() {
        JsonNode p = node.get("params");
        return p != null && p.isObject() ? p : CaseFile.MAPPER.createObjectNode();
    }

    public JsonNode tol() {
        JsonNode t = node.get("tol");
        return t != null && t.isObject() ? t : CaseFile.MAPPER.createObjectNode();
    }

    /** The tensor names of a section in file order (empty when the section is absent). */
    public List<String> names(String section) {
        List<String> out = new ArrayList<>();
        JsonNode s = node.get(section);
        if (s != null && s.isObject()) {
            s.fieldNames().forEachRemaining(out::add);
        }
        return out;
    }

    public boolean has(String section, String name) {
        JsonNode s = node.get(section);
        return s != null && s.isObject() && s.has(name);
    }

    /** A tensor of a section; throws {@link CaseException} when it is missing or malformed. */
    public CaseTensor tensor(String section, String name) {
        Map<String, CaseTensor> cache = parsed.computeIfAbsent(section, k -> new LinkedHashMap<>());
        CaseTensor t = cache.get(name);
        if (t == null) {
            JsonNode s = node.get(section);
            if (s == null || !s.isObject() || !s.has(name)) {
                throw new CaseException("missing " + ("inputs".equals(section) ? "input" : section + " entry")
                        + " '" + name + "'");
            }
            t = CaseTensor.parse(section + "." + name, s.get(name));
            cache.put(name, t);
        }
        return t;
    }
}
