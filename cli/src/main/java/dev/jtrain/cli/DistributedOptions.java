package dev.jtrain.cli;

import dev.jtrain.distributed.CollectiveWatchdog;
import dev.jtrain.distributed.Communicator;
import dev.jtrain.distributed.Communicators;
import dev.jtrain.distributed.DataParallel;
import dev.jtrain.tensor.Tensor;
import dev.jtrain.train.Trainer;
import dev.jtrain.train.TrainingListener;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * {@code jtrain train --distributed [--sync-bn] [--no-overlap] [--grad-bucket-kb KB] [--dist-timeout S]}: this process is one rank of a data-parallel run
 * started by {@code mpirun} ({@link DataParallel}); {@code --batch} stays the global batch. Rank 0 alone prints and
 * writes files; errors are printed by every rank with its "rank r/N" prefix.
 */
public final class DistributedOptions implements AutoCloseable {
    /**
     * Test-only: {@code RANK:STEP} makes that rank exit (status 3) at that step of the first epoch, as a dead rank;
     * {@code RANK:STEP:hang} makes it stop there without exiting, as a hung one.
     */
    static final String DIE_HOOK = "JTRAIN_TEST_DIE_AT_STEP";

    @Option(names = "--distributed", description = "data-parallel training, one rank per process started by "
            + "mpirun -np N (OpenMPI); --batch is the global batch, each rank takes batch/N")
    boolean distributed;

    @Option(names = "--sync-bn", description = "with --distributed: BatchNorm normalises with the statistics of the "
            + "global batch (all ranks) instead of each rank's part (cpu only)")
    boolean syncBn;

    @Option(names = "--dist-timeout", paramLabel = "SECONDS", description = "with --distributed: a collective waiting "
            + "longer than this (a rank died or hangs) ends the run with an error naming the step (default: ${DEFAULT-VALUE})")
    int timeoutSeconds = (int) DataParallel.DEFAULT_TIMEOUT.toSeconds();

    @Option(names = "--no-overlap", description = "with --distributed: all-reduce the gradients after the whole backward "
            + "pass instead of overlapping it with the backward (bucket by bucket as gradients become final); for A/B "
            + "comparisons: both give the same bits")
    boolean noOverlap;

    @Option(names = "--grad-bucket-kb", paramLabel = "KB", description = "with --distributed: the size of one gradient "
            + "all-reduce bucket in KiB (default: ${DEFAULT-VALUE}); with overlap, smaller buckets start earlier in the "
            + "backward, larger ones need fewer collectives")
    int bucketKb = DataParallel.DEFAULT_BUCKET_BYTES / 1024;

    /** Where the communicator comes from: mpirun's environment; tests put an in-JVM group here. */
    Supplier<Communicator> communicators = Communicators::fromEnvironment;
    /** Set when a test supplies {@link #communicators}: no mpirun environment needed, and no process halt. */
    boolean inProcess;

    private Communicator comm;
    private DataParallel dataParallel;
    private String prefix = "";   // kept after close(), for the error line of a failed run

    /** Checks the flags (usage errors before anything runs). */
    void validate(boolean hostDevice) {
        if (!distributed) {
            if (syncBn) {
                throw new TrainCommand.UsageException("--sync-bn needs --distributed");
            }
            if (noOverlap) {
                throw new TrainCommand.UsageException("--no-overlap needs --distributed");
            }
            if (bucketKb != DataParallel.DEFAULT_BUCKET_BYTES / 1024) {
                throw new TrainCommand.UsageException("--grad-bucket-kb needs --distributed");
            }
            return;
        }
        if (bucketKb < 1 || bucketKb > (1 << 20)) {
            throw new TrainCommand.UsageException("--grad-bucket-kb must be in [1, 1048576], got " + bucketKb);
        }
        if (timeoutSeconds < 1) {
            throw new TrainCommand.UsageException("--dist-timeout must be >= 1 second, got " + timeoutSeconds);
        }
        if (syncBn && !hostDevice) {
            throw new TrainCommand.UsageException("--sync-bn runs on the cpu only (synchronized BatchNorm has no device "
                    + "kernels yet); leave it out for per-rank statistics");
        }
        if (!inProcess && !Communicators.launchedByMpirun()) {
            throw new TrainCommand.UsageException("--distributed needs a launch by mpirun (" + Communicators.MPIRUN_SIZE_ENV
                    + " is not set): run mpirun -np N ./jtrain train --distributed ... (OpenMPI: apt-get install "
                    + "openmpi-bin libopenmpi-dev), or leave --distributed out");
        }
    }

    /** Joins the group (null without --distributed); this rank's "rank r/N: " prefix is then {@link #prefix()}. */
    DataParallel open() {
        if (!distributed) {
            return null;
        }
        comm = communicators.get();
        prefix = "rank " + comm.rank() + "/" + comm.size() + ": ";
        Duration timeout = Duration.ofSeconds(timeoutSeconds);
        dataParallel = new DataParallel(comm).setWatchdog(inProcess ? CollectiveWatchdog.interrupting(timeout)
                : CollectiveWatchdog.haltingProcess(timeout, System.err, "jtrain train: error: " + prefix(),
                TrainCommand.EXIT_FAILURE)).setOverlap(!noOverlap).setBucketBytes(bucketKb * 1024);
        return dataParallel;
    }

    /** Whether this process prints and writes files: rank 0, or any run without --distributed. */
    boolean isRoot() {
        return dataParallel == null || dataParallel.isRoot();
    }

    /** "rank r/N: " for messages of a distributed run, else "". */
    String prefix() {
        return prefix;
    }

    /** The test hook of {@link #DIE_HOOK}, when set for this rank. */
    void installTestHook(Trainer trainer, PrintWriter err) {
        String hook = System.getenv(DIE_HOOK);
        if (dataParallel == null || hook == null || inProcess) {
            return;
        }
        String[] parts = hook.split(":");
        int rank = Integer.parseInt(parts[0].trim());
        int step = Integer.parseInt(parts[1].trim());
        boolean hang = parts.length > 2 && parts[2].trim().equals("hang");
        if (rank != dataParallel.rank()) {
            return;
        }
        trainer.addListener(new TrainingListener() {
            @Override
            public void onStep(int epoch, int s, int batchSize, Tensor loss) {
                if (epoch == 1 && s == step) {
                    err.println("jtrain train: " + prefix() + "test hook " + DIE_HOOK + ": " + (hang ? "hanging" : "exiting")
                            + " at step " + s);
                    err.flush();
                    if (hang) {
                        try {
                            Thread.sleep(Long.MAX_VALUE);
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                    }
                    Runtime.getRuntime().halt(3);
                }
            }
        });
    }

    /** Rank 0's header line. */
    String describe(int batch, String device) {
        int n = dataParallel.size();
        return String.format(java.util.Locale.ROOT, "distributed: rank 0/%d prints; %d ranks, global batch %d (%s per rank), "
                        + "BatchNorm %s, gradient all-reduce %s in buckets of %d KiB, collective timeout %d s, on %s", n, n, batch,
                batch % n == 0 ? String.valueOf(batch / n) : batch / n + "-" + (batch / n + 1),
                syncBn ? "synchronized" : "per rank", noOverlap ? "after the backward" : "overlapped with the backward",
                bucketKb, timeoutSeconds, device);
    }

    /** Rank 0's closing line: how long the training thread waited for the gradient all-reduce. */
    String describeSyncTime() {
        dev.jtrain.distributed.GradientSyncTime t = dataParallel.gradientSyncTime();
        return String.format(java.util.Locale.ROOT, "distributed: rank 0 waited %.2f ms/step for the gradient all-reduce "
                + "(%s, %d steps, %.2f s in all)", t.millisPerStep(),
                noOverlap ? "after the backward" : "the part not overlapped by the backward", t.steps(), t.seconds());
    }

    Map<String, Object> settings() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("distributed", distributed);
        m.put("ranks", dataParallel == null ? 1 : dataParallel.size());
        m.put("sync_bn", syncBn);
        m.put("overlap", distributed && !noOverlap);
        m.put("grad_bucket_kb", bucketKb);
        return m;
    }

    @Override
    public void close() {
        if (dataParallel != null) {
            dataParallel.close();
            dataParallel = null;
        }
        if (comm != null) {
            comm.close();
            comm = null;
        }
    }
}
