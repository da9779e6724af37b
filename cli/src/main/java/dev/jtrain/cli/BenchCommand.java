package dev.jtrain.cli;

import picocli.CommandLine.Command;

/** {@code jtrain bench ...}: benchmark reports (ratios measured in one run). */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Benchmarks: GFLOP/s and ratios against the reference implementations, measured in one run.",
        subcommands = {BenchAllReduceCommand.class, BenchGemmCommand.class, BenchKernelsCommand.class, BenchTrainCommand.class,
                BenchTransferCommand.class})
public final class BenchCommand implements Runnable {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new picocli.CommandLine.ParameterException(spec.commandLine(),
                "bench needs a subcommand: allreduce, gemm, kernels, train or transfer (see 'jtrain bench --help')");
    }
}
