package dev.jtrain.docs;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every public or protected type of the library (top-level or nested) has a Javadoc comment. The javadoc
 * run of the build (java/pom.xml) fails on malformed comments but not on missing ones (doclint's
 * "missing" group would also demand a comment on every member); this test holds the line for types.
 * The command-line packages (cli, plot, bench) are not library API and are not checked.
 */
class PublicTypesDocumentedTest {
    private static final Path SOURCES = Path.of("..", "java", "src", "main", "java", "dev", "jtrain");
    private static final Set<String> NOT_API = Set.of("cli", "plot", "bench");
    private static final Pattern TYPE = Pattern.compile(
            "^\\s*(?:public|protected)\\s+(?:(?:abstract|final|sealed|non-sealed|static|strictfp)\\s+)*"
                    + "(?:class|interface|enum|record|@interface)\\s+(\\w+)");

    @Test
    void everyPublicTypeHasADocComment() throws IOException {
        assertTrue(Files.isDirectory(SOURCES), "library sources not found at " + SOURCES.toAbsolutePath());
        List<String> undocumented = new ArrayList<>();
        int types = 0;
        try (Stream<Path> files = Files.walk(SOURCES)) {
            for (Path f : (Iterable<Path>) files.filter(p -> p.toString().endsWith(".java"))::iterator) {
                Path rel = SOURCES.relativize(f);
                String name = f.getFileName().toString();
                if (NOT_API.contains(rel.getName(0).toString()) || name.equals("package-info.java")
                        || name.equals("module-info.java")) {
                    continue;
                }
                List<String> lines = Files.readAllLines(f);
                for (int i = 0; i < lines.size(); i++) {
                    Matcher m = TYPE.matcher(lines.get(i));
                    if (m.find()) {
                        types++;
                        if (!documented(lines, i)) {
                            undocumented.add(rel + ":" + (i + 1) + " " + m.group(1));
                        }
                    }
                }
            }
        }
        assertTrue(types > 200, "found only " + types + " public types: is " + SOURCES + " the library?");
        assertTrue(undocumented.isEmpty(), "public types without a Javadoc comment: " + undocumented);
    }

    /** The declaration at line i is preceded (annotations skipped) by the end of a comment that opened with /**. */
    private static boolean documented(List<String> lines, int i) {
        int j = i - 1;
        while (j >= 0 && lines.get(j).strip().startsWith("@")) {
            j--;
        }
        if (j < 0 || !lines.get(j).strip().endsWith("*/")) {
            return false;
        }
        while (j >= 0 && !lines.get(j).strip().startsWith("/*")) { // the comment's first line ("/*" may occur inside)
            j--;
        }
        return j >= 0 && lines.get(j).strip().startsWith("/**");
    }
}
