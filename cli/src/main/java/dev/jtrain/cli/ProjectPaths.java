package dev.jtrain.cli;

import java.nio.file.Path;

/** Where the project lives: the launcher passes -Djtrain.root; otherwise the current directory. */
public final class ProjectPaths {
    private ProjectPaths() {
    }

    public static Path root() {
        String r = System.getProperty("jtrain.root");
        return Path.of(r != null && !r.isBlank() ? r : ".").toAbsolutePath().normalize();
    }
}
