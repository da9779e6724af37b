package dev.jtrain.cli;

import picocli.CommandLine.Command;

/** {@code jtrain diagnose ...}: experiments that show how a network behaves before or while it trains. */
@Command(name = "diagnose", mixinStandardHelpOptions = true,
        description = "Diagnostic experiments (init: activation statistics layer by layer).",
        subcommands = {DiagnoseInitCommand.class})
public final class DiagnoseCommand implements Runnable {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new picocli.CommandLine.ParameterException(spec.commandLine(),
                "diagnose needs a subcommand: init (see 'jtrain diagnose --help')");
    }
}
