package dev.jtrain.check;

import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * One conformance file: {@code {"family": ..., "format_version": 1, ..., "cases": [...]}} (FORMAT.md).
 * Numbers are read as exact decimals ({@link java.math.BigDecimal}) so float32 data can be parsed with
 * {@code Float.parseFloat} from its text. A file that cannot be read or parsed throws {@link CaseException}.
 */
public final class CaseFile {
    static final ObjectMapper MAPPER = JsonMapper.builder()
            .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
            .enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
            .build();

    private final Path path;
    private final String family;
    private final List<CaseData> cases;

    private CaseFile(Path path, String family, List<CaseData> cases) {
        this.path = path;
        this.family = family;
        this.cases = cases;
    }

    public static CaseFile read(Path path) {
        JsonNode root;
        try {
            root = MAPPER.readTree(Files.readAllBytes(path));
        } catch (NoSuchFileException e) {
            throw new CaseException("file not found");
        } catch (JsonParseException e) {
            throw new CaseException("bad JSON: " + e.getOriginalMessage() + " at line " + e.getLocation().getLineNr()
                    + ", column " + e.getLocation().getColumnNr());
        } catch (IOException e) {
            throw new CaseException("cannot read file: " + e.getMessage());
        }
        return parse(path, root);
    }

    /** Parses already-read JSON text (used by tests). */
    public static CaseFile parse(Path path, String json) {
        try {
            return parse(path, MAPPER.readTree(json));
        } catch (JsonParseException e) {
            throw new CaseException("bad JSON: " + e.getOriginalMessage() + " at line " + e.getLocation().getLineNr()
                    + ", column " + e.getLocation().getColumnNr());
        } catch (IOException e) {
            throw new CaseException("bad JSON: " + e.getMessage());
        }
    }

    private static CaseFile parse(Path path, JsonNode root) {
        if (root == null || root.isMissingNode() || !root.isObject()) {
            throw new CaseException("bad JSON: the top level is not an object with a \"cases\" array");
        }
        JsonNode casesNode = root.get("cases");
        if (casesNode == null || !casesNode.isArray()) {
            throw new CaseException("bad JSON: no \"cases\" array at the top level");
        }
        JsonNode version = root.get("format_version");
        if (version != null && version.isNumber() && version.asInt() != 1) {
            throw new CaseException("unsupported format_version " + version + " (this runner reads version 1)");
        }
        String family = root.hasNonNull("family") ? root.get("family").asText() : null;
        List<CaseData> cases = new ArrayList<>();
        for (int i = 0; i < casesNode.size(); i++) {
            cases.add(new CaseData(path, i, casesNode.get(i)));
        }
        return new CaseFile(path, family, Collections.unmodifiableList(cases));
    }

    public Path path() {
        return path;
    }

    /** The "family" field, or null. */
    public String family() {
        return family;
    }

    public List<CaseData> cases() {
        return cases;
    }
}
