package dev.jtrain.distributed;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * MPI_COMM_WORLD through {@link MpiCommunicator} in 2 real ranks ({@code mpirun -np 2}, {@link MpiCheckMain}:
 * exact sums of floats and doubles of lengths 0, 1, odd, 16 MiB, chunked and not, broadcast, barrier,
 * tensors, bad arguments, close), and the error when OpenMPI is missing.
 */
class MpiCommunicatorTest {

    @Test
    void twoRanksReduceBroadcastAndWaitExactly() throws Exception {
        MpiTestLaunch.Result r = MpiTestLaunch.mpirun(2, MpiCheckMain.class, List.of(), "2");
        assertEquals(0, r.exitCode(), r.output());
        for (int rank = 0; rank < 2; rank++) {
            assertTrue(r.output().matches("(?s).*MPI-CHECK rank " + rank + "/2 OK \\d+.*"),
                    "rank " + rank + " did not report OK:\n" + r.output());
        }
    }

    @Test
    void abortEndsEveryRankWithItsCode() throws Exception {
        MpiTestLaunch.Result r = MpiTestLaunch.mpirun(2, MpiCheckMain.class, List.of(), "abort");
        assertEquals(7, r.exitCode(), r.output());
        assertTrue(r.output().contains("MPI-ABORT rank 1 aborts with 7"), r.output());
        assertFalse(r.output().contains("left the barrier"), "a rank went on after the abort:\n" + r.output());
    }

    @Test
    void missingOpenMpiUnderMpirunIsAClearError() throws Exception {
        MpiTestLaunch.requireShim();
        // As mpirun would start it (OMPI_COMM_WORLD_SIZE set), but with a libmpi that does not exist.
        MpiTestLaunch.Result r = MpiTestLaunch.java(MpiCheckMain.class,
                List.of("-D" + MpiCommunicator.LIBRARY_PROPERTY + "=/nonexistent/libmpi.so.40"),
                Map.of(Communicators.MPIRUN_SIZE_ENV, "2"), "env");
        assertEquals(0, r.exitCode(), r.output());
        String line = r.output().lines().filter(l -> l.startsWith("MPI-ENV")).findFirst().orElse("");
        assertTrue(line.startsWith("MPI-ENV DistributedUnavailableException: OpenMPI not found: cannot load "
                + "/nonexistent/libmpi.so.40"), r.output());
        assertTrue(line.contains("install openmpi-bin and libopenmpi-dev"), line);
        assertTrue(line.contains("No such file"), "the loader's reason is kept: " + line);
    }

    @Test
    void aLibraryThatIsNotOpenMpiIsNamed() throws Exception {
        MpiTestLaunch.requireShim();
        MpiTestLaunch.Result r = MpiTestLaunch.java(MpiCheckMain.class,
                List.of("-D" + MpiCommunicator.LIBRARY_PROPERTY + "=libz.so.1"),
                Map.of(Communicators.MPIRUN_SIZE_ENV, "2"), "env");
        String line = r.output().lines().filter(l -> l.startsWith("MPI-ENV")).findFirst().orElse("");
        assertTrue(line.contains("OpenMPI not found") && line.contains("is not OpenMPI's libmpi (missing MPI_Initialized"),
                r.output());
    }

    @Test
    void aMissingShimSaysMpiSupportIsNotThere(@org.junit.jupiter.api.io.TempDir java.nio.file.Path empty)
            throws Exception {
        MpiTestLaunch.Result r = MpiTestLaunch.java(MpiCheckMain.class, List.of("-Djtrain.native.dir=" + empty),
                Map.of(Communicators.MPIRUN_SIZE_ENV, "2"), "env");
        String line = r.output().lines().filter(l -> l.startsWith("MPI-ENV")).findFirst().orElse("");
        assertTrue(line.startsWith("MPI-ENV DistributedUnavailableException: MPI library not found: "
                + empty.resolve("libjtrain_mpi.so").toAbsolutePath() + " does not exist"), r.output());
    }

    @Test
    void withoutMpirunTheEnvironmentGivesOneRank() throws Exception {
        MpiTestLaunch.Result r = MpiTestLaunch.java(MpiCheckMain.class, List.of(), Map.of(), "env");
        assertTrue(r.output().contains("MPI-ENV SingleCommunicator 0/1"), r.output());
    }
}
