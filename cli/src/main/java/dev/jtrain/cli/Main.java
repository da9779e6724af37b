package dev.jtrain.cli;

import dev.jtrain.Version;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code jtrain} command line: a thin client of the library's public API. Errors in user input
 * end as one line on stderr and a non-zero exit status, never a stack trace
 * (set JTRAIN_DEBUG=1 to see one).
 */
@Command(name = "jtrain", mixinStandardHelpOptions = true, versionProvider = Main.VersionProvider.class,
        description = "Train neural networks in Java on the CPU (and GPUs), check conformance, benchmark.",
        subcommands = {TrainCommand.class, CheckCommand.class, BenchCommand.class, InfoCommand.class,
                DiagnoseCommand.class, ExportCommand.class, SearchCommand.class, EnsembleCommand.class})
public final class Main implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the CLI and returns its exit status (for tests). */
    public static int run(String... args) {
        CommandLine cli = new CommandLine(new Main());
        cli.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
            if (System.getenv("JTRAIN_DEBUG") != null) {
                ex.printStackTrace();
            }
            String msg = ex.getMessage() != null ? ex.getMessage() : ex.getClass().getSimpleName();
            commandLine.getErr().println("jtrain " + commandLine.getCommandName() + ": error: " + msg);
            return 2;
        });
        return cli.execute(args);
    }

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(),
                "missing command: train, search, check, bench, info, diagnose, export or ensemble (see 'jtrain --help')");
    }

    static final class VersionProvider implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"jtrain " + Version.get()};
        }
    }
}
