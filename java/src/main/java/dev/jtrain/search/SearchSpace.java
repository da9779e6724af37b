package dev.jtrain.search;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The hyperparameters of a search, in the order they were given: {@code lr=log:1e-4:1e-1,dropout=lin:0:0.5,
 * batch=32|64}. Entries are separated by commas that start a new {@code name=} (so a choice may itself hold commas,
 * as {@code hidden=128,128|256,256} does); a name may be written with its leading {@code --}.
 */
public final class SearchSpace {
    /** A comma that starts the next {@code name=} entry. */
    private static final Pattern ENTRY_SEPARATOR = Pattern.compile(",\\s*(?=(--)?[A-Za-z][A-Za-z0-9_-]*\\s*=)");
    private static final Pattern NAME = Pattern.compile("[A-Za-z][A-Za-z0-9_-]*");

    private final Map<String, Param> params;

    public SearchSpace(List<Param> params) {
        if (params.isEmpty()) {
            throw new IllegalArgumentException("search space: no hyperparameters (expected e.g. lr=log:1e-4:1e-1)");
        }
        Map<String, Param> m = new LinkedHashMap<>();
        for (Param p : params) {
            if (m.put(p.name(), p) != null) {
                throw new IllegalArgumentException("search space: '" + p.name() + "' is given twice");
            }
        }
        this.params = m;
    }

    /** Parses one or more texts (e.g. the values of a repeated {@code --space}), each of one or more entries. */
    public static SearchSpace parse(List<String> texts) {
        List<Param> out = new ArrayList<>();
        for (String text : texts) {
            if (text.isBlank()) {
                throw new IllegalArgumentException("search space: empty (expected e.g. lr=log:1e-4:1e-1,dropout=lin:0:0.5)");
            }
            for (String entry : ENTRY_SEPARATOR.split(text.trim())) {
                int eq = entry.indexOf('=');
                if (eq < 0) {
                    throw new IllegalArgumentException("search space: '" + entry.trim() + "' is not NAME=VALUES (e.g. lr=log:1e-4:1e-1)");
                }
                String name = entry.substring(0, eq).trim();
                if (name.startsWith("--")) {
                    name = name.substring(2);
                }
                if (!NAME.matcher(name).matches()) {
                    throw new IllegalArgumentException("search space: '" + entry.trim() + "': '" + name
                            + "' is not an option name (expected e.g. lr, weight-decay)");
                }
                out.add(Param.parse(name, entry.substring(eq + 1)));
            }
        }
        return new SearchSpace(out);
    }

    public static SearchSpace parse(String text) {
        return parse(List.of(text));
    }

    public List<Param> params() {
        return List.copyOf(params.values());
    }

    public List<String> names() {
        return List.copyOf(params.keySet());
    }

    public Param get(String name) {
        Param p = params.get(name);
        if (p == null) {
            throw new IllegalArgumentException("no hyperparameter '" + name + "' in the search space " + spec());
        }
        return p;
    }

    public int size() {
        return params.size();
    }

    /** The space as text that {@link #parse} reads back: {@code lr=log:0.0001:0.1,dropout=lin:0:0.5}. */
    public String spec() {
        StringBuilder b = new StringBuilder();
        for (Param p : params.values()) {
            b.append(b.length() == 0 ? "" : ",").append(p.name()).append('=').append(p.spec());
        }
        return b.toString();
    }

    @Override
    public String toString() {
        return spec();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SearchSpace s && s.params.equals(params) && List.copyOf(s.params.keySet()).equals(names());
    }

    @Override
    public int hashCode() {
        return params.hashCode();
    }
}
