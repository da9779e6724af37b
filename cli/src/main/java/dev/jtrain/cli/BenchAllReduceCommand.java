package dev.jtrain.cli;

import dev.jtrain.bench.AllReduceBenchmark;
import dev.jtrain.distributed.Communicators;
import dev.jtrain.distributed.DistributedUnavailableException;
import dev.jtrain.distributed.MpiCommunicator;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code mpirun -np N ./jtrain bench allreduce}: all-reduce bandwidth of the Java communicator against the MPI
 * library's own loop in C ({@link AllReduceBenchmark}), printed by rank 0. Not under mpirun, or without OpenMPI:
 * a one-line error, status 2.
 */
@Command(name = "allreduce", mixinStandardHelpOptions = true,
        description = "All-reduce (sum, float32) bandwidth, 4 KiB..64 MiB, through jtrain's MPI communicator vs "
                + "MPI_Allreduce called from C; run it under mpirun (e.g. mpirun -np 2 ./jtrain bench allreduce).")
public final class BenchAllReduceCommand implements Callable<Integer> {

    @Option(names = "--max-size", defaultValue = "64m", paramLabel = "SIZE",
            description = "Largest all-reduce, e.g. 16m, 64m (default: ${DEFAULT-VALUE}); sizes are 4k, 16k, 64k, ...")
    String maxSize;

    @Option(names = "--reps", defaultValue = "100",
            description = "Most timed calls per cell (fewer for large sizes, at least 3; default: ${DEFAULT-VALUE}).")
    int reps;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        MpiCommunicator comm;
        List<Long> sizes;
        try {
            if (reps < 1) {
                throw new IllegalArgumentException("--reps must be >= 1, got " + reps);
            }
            sizes = AllReduceBenchmark.sizesUpTo(BenchTransferCommand.parseSize(maxSize));
            if (!Communicators.launchedByMpirun()) {
                throw new IllegalArgumentException("bench allreduce measures MPI ranks: run it under OpenMPI's "
                        + "mpirun, e.g. mpirun -np 2 ./jtrain bench allreduce (as root add --allow-run-as-root)");
            }
            comm = MpiCommunicator.world();
        } catch (IllegalArgumentException | DistributedUnavailableException e) {
            err.println("jtrain bench allreduce: " + e.getMessage());
            err.flush();
            return 2;
        }
        try (comm) {
            boolean root = comm.rank() == 0;
            if (root) {
                out.printf(Locale.ROOT, "jtrain bench allreduce: %d ranks, float32 sum in place; time = slowest rank's "
                        + "mean; GB/s = 1e9 bytes/s%n", comm.size());
                out.println(AllReduceBenchmark.header());
                out.flush();
            }
            AllReduceBenchmark.run(comm, sizes, reps, r -> {
                if (root) {
                    out.println(AllReduceBenchmark.line(r));
                    out.flush();
                }
            });
            if (root) {
                out.printf(Locale.ROOT, "java = MpiCommunicator.allReduceSum(float[]) (JNI, array pinned in place, "
                        + "%d floats per MPI call); C = MPI_Allreduce(MPI_IN_PLACE) on a malloc'd buffer in "
                        + "libjtrain_mpi.so, one call per all-reduce (C chunk: in java's chunks); GB/s: alg = "
                        + "bytes/time, bus = alg x 2(N-1)/N; ratio = java speed / C speed%n",
                        MpiCommunicator.chunkElements());
            }
        }
        return 0;
    }
}
