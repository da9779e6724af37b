package dev.jtrain.modules;

import dev.jtrain.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

import javax.xml.parsers.DocumentBuilderFactory;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.lang.module.ModuleDescriptor;
import java.lang.module.ModuleDescriptor.Exports;
import java.lang.module.ModuleDescriptor.Requires;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

/**
 * jtrain-core as an application sees it: the module descriptor of the built core (its jar, or target/classes
 * when only compiled) exports exactly the API packages README lists, requires nothing of the command line, and
 * works from the module path; the core pom's dependencies hold no CLI library.
 */
class CoreModuleTest {
    /** Libraries that belong to jtrain-cli only (module names, Maven artifactIds, class-file package prefixes). */
    private static final List<String> CLI_LIBRARIES = List.of("picocli", "progressbar", "xchart", "jline");
    private static final List<String> CLI_PACKAGES = List.of("picocli/", "me/tongfei/", "org/knowm/", "org/jline/", "dev/jtrain/cli/",
            "dev/jtrain/plot/", "dev/jtrain/check/", "dev/jtrain/bench/");

    private static Path root() {
        return Path.of(System.getProperty("jtrain.root", ".."));
    }

    /** Where the tests load jtrain-core from: its jar, or java/target/classes. */
    private static Path coreLocation() throws Exception {
        return Path.of(Tensor.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    }

    private static <T> T withCoreFiles(IOFunction<Path, T> f) throws Exception {
        Path loc = coreLocation();
        if (Files.isDirectory(loc)) {
            return f.apply(loc);
        }
        try (FileSystem jar = FileSystems.newFileSystem(loc)) {
            return f.apply(jar.getPath("/"));
        }
    }

    private interface IOFunction<A, B> {
        B apply(A a) throws IOException;
    }

    private static ModuleDescriptor descriptor() throws Exception {
        return withCoreFiles(dir -> {
            Set<String> packages = new TreeSet<>();
            try (Stream<Path> files = Files.walk(dir)) {
                files.filter(f -> f.toString().endsWith(".class") && !f.endsWith("module-info.class"))
                        .forEach(f -> packages.add(dir.relativize(f.getParent()).toString().replace('/', '.')));
            }
            try (InputStream in = Files.newInputStream(dir.resolve("module-info.class"))) {
                return ModuleDescriptor.read(in, () -> packages);
            }
        });
    }

    /** The packages README's "Using the library" lists as the API (the line that starts "Exported packages"). */
    private static Set<String> documentedApi() throws IOException {
        String readme = Files.readString(root().resolve("README.md"), StandardCharsets.UTF_8);
        Matcher line = Pattern.compile("(?m)^Exported packages.*$").matcher(readme);
        assertTrue(line.find(), "README.md has no line starting 'Exported packages'");
        Set<String> out = new TreeSet<>();
        Matcher pkg = Pattern.compile("`(dev\\.jtrain[.a-z]*)`").matcher(line.group());
        while (pkg.find()) {
            out.add(pkg.group(1));
        }
        return out;
    }

    @Test
    void exportsExactlyTheDocumentedApiPackages() throws Exception {
        ModuleDescriptor d = descriptor();
        assertEquals("dev.jtrain.core", d.name());
        Set<String> exported = d.exports().stream().map(Exports::source).collect(Collectors.toCollection(TreeSet::new));
        assertEquals(documentedApi(), exported, "exported packages against README's list");
        for (Exports e : d.exports()) {
            assertFalse(e.isQualified(), e + " is a qualified export");
        }
        // The implementation stays hidden.
        for (String internal : List.of("dev.jtrain.backend.cpu.gemm", "dev.jtrain.backend.jni")) {
            assertTrue(d.packages().contains(internal), internal + " missing from the module");
            assertFalse(exported.contains(internal), internal + " is exported");
        }
        assertTrue(d.uses().contains("dev.jtrain.tensor.TensorDevice$Provider"), "uses " + d.uses());
        assertEquals(1, d.provides().size(), "provides " + d.provides());
    }

    @Test
    void requiresNothingOfTheCommandLine() throws Exception {
        ModuleDescriptor d = descriptor();
        Set<String> required = d.requires().stream().map(Requires::name).collect(Collectors.toCollection(TreeSet::new));
        for (String cli : CLI_LIBRARIES) {
            assertTrue(required.stream().noneMatch(r -> r.contains(cli)), "core requires " + required);
        }
        assertEquals(Set.of("java.base", "jdk.incubator.vector", "jdk.management", "com.fasterxml.jackson.databind",
                "ejml.core", "ejml.ddense", "jcuda"), required);
        Requires jcuda = d.requires().stream().filter(r -> r.name().equals("jcuda")).findFirst().orElseThrow();
        assertTrue(jcuda.modifiers().contains(Requires.Modifier.STATIC), "JCuda must be optional: " + jcuda);
    }

    @Test
    void coreClassesReferenceNoCommandLineCode() throws Exception {
        List<String> offenders = withCoreFiles(dir -> {
            List<String> bad = new ArrayList<>();
            try (Stream<Path> files = Files.walk(dir)) {
                for (Path f : (Iterable<Path>) files.filter(p -> p.toString().endsWith(".class"))::iterator) {
                    String constants = new String(Files.readAllBytes(f), StandardCharsets.ISO_8859_1);
                    for (String p : CLI_PACKAGES) {
                        if (constants.contains(p)) {
                            bad.add(dir.relativize(f) + " -> " + p);
                        }
                    }
                }
            }
            return bad;
        });
        assertEquals(List.of(), offenders);
    }

    @Test
    void corePomDependsOnNoCliLibrary() throws Exception {
        var pom = DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(root().resolve("java/pom.xml").toFile());
        NodeList deps = pom.getElementsByTagName("dependency");
        Set<String> artifacts = new TreeSet<>();
        for (int i = 0; i < deps.getLength(); i++) {
            Element dep = (Element) deps.item(i);
            String artifact = dep.getElementsByTagName("artifactId").item(0).getTextContent().trim();
            artifacts.add(artifact);
            NodeList optional = dep.getElementsByTagName("optional");
            if (artifact.equals("jcuda")) {
                assertTrue(optional.getLength() == 1 && optional.item(0).getTextContent().trim().equals("true"),
                        "jcuda must be <optional>true</optional> in jtrain-core");
            }
        }
        assertEquals(Set.of("jackson-databind", "jcuda", "ejml-ddense"), artifacts, "jtrain-core's dependencies");
    }

    @Test
    void runsFromTheModulePathOnCpuAndEmu() throws Exception {
        Path core = coreLocation();
        List<String> modulePath = new ArrayList<>(List.of(core.toString()));
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            String name = Path.of(entry).getFileName().toString();
            if (name.startsWith("jackson-") || name.startsWith("ejml-")) {
                modulePath.add(entry);
            }
        }
        Path probe = Path.of(ModulePathProbe.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        assertEquals("module dev.jtrain.core\nrelu [0.0, 2.0, 0.0, 4.0]\n", probe(modulePath, probe, "cpu"));
        assumeFalse(Boolean.getBoolean("jtrain.native.skip"), "emu library skipped (-Djtrain.native.skip=true)");
        assertEquals("module dev.jtrain.core\nrelu [0.0, 2.0, 0.0, 4.0]\n", probe(modulePath, probe, "emu"));
    }

    private static String probe(List<String> modulePath, Path classPath, String device) throws Exception {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Process p = new ProcessBuilder(java.toString(), "--module-path", String.join(File.pathSeparator, modulePath),
                "--add-modules", "dev.jtrain.core", "-cp", classPath.toString(), ModulePathProbe.class.getName(), device)
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8)
                .replaceAll("(?m)^WARNING: Using incubator modules: jdk.incubator.vector\\R", "");
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "probe on " + device + " did not finish");
        assertEquals(0, p.exitValue(), "probe on " + device + " failed: " + out);
        return out;
    }
}
