package dev.jtrain.cli;

import dev.jtrain.bench.AllReduceBenchmark;
import dev.jtrain.distributed.Communicators;
import dev.jtrain.distributed.DistributedUnavailableException;
import dev.jtrain.distributed.MpiCommunicator;
import dev.jtrain.tensor.Device;
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

    @Option(names = "--device", defaultValue = "cpu", paramLabel = "DEVICE",
            description = "cpu (float arrays: Java vs MPI's C loop), or cuda[:N] (device tensors through NCCL on the "
                    + "backend's stream; one GPU per rank, each seeing its own as cuda:0) or emu (device tensors "
                    + "through a host copy) (default: ${DEFAULT-VALUE}).")
    String device;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        MpiCommunicator comm;
        List<Long> sizes;
        Device dev;
        try {
            dev = Device.parse(device);
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
        if (!dev.isHost()) {
            return onDevice(comm, dev, sizes, out, err);
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

    /** The device table: all-reduces of device tensors (NCCL on cuda), printed by rank 0. */
    private int onDevice(MpiCommunicator comm, Device dev, List<Long> sizes, PrintWriter out, PrintWriter err) {
        try (comm) {
            boolean root = comm.rank() == 0;
            if (root) {
                out.printf(Locale.ROOT, "jtrain bench allreduce --device %s: %d ranks, float32 sum in place on the "
                        + "device; time = slowest rank's mean to the stream's end; GB/s = 1e9 bytes/s%n", dev, comm.size());
                out.println(AllReduceBenchmark.deviceHeader());
                out.flush();
            }
            AllReduceBenchmark.runOnDevice(comm, dev, sizes, reps, r -> {
                if (root) {
                    out.println(AllReduceBenchmark.deviceLine(r));
                    out.flush();
                }
            });
            if (root) {
                out.println("alg = bytes/time, bus = alg x 2(N-1)/N (compare bus with the link: NVLink, PCIe, network)");
            }
            return 0;
        } catch (RuntimeException e) {
            err.println("jtrain bench allreduce: " + e.getMessage());
            err.flush();
            return 2;
        }
    }
}
