package dev.jtrain.backend.jni;

import org.junit.jupiter.api.Test;

import static dev.jtrain.backend.jni.EmuTestSupport.emu;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The event natives that order work across streams (the overlapped gradient all-reduce's compute and communication
 * streams), on emu: work recorded before an event and waited for on another stream is visible to the work queued
 * after the wait; every handle is checked (never created, destroyed, destroyed twice) with an
 * IllegalArgumentException naming it, and a bad handle leaves no stale error for the next call. On emu every op
 * completes before its call returns, so a recorded event is complete at once; on a GPU the same sequence is the
 * cross-stream ordering (not measured: no GPU).
 */
class StreamEventTest {

    private static void assertMessage(String part, Runnable r) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, r::run);
        assertTrue(e.getMessage().contains(part), "message '" + e.getMessage() + "' should contain '" + part + "'");
    }

    @Test
    void workBeforeAnEventIsSeenByTheStreamThatWaitsForIt() {
        NativeApi api = emu();
        long compute = api.streamCreate();
        long comm = api.streamCreate();
        long ready = api.eventCreate();
        long done = api.eventCreate();
        long p = api.malloc(4 * 4);
        try {
            assertNotEquals(ready, done);
            assertTrue(api.eventQuery(ready), "an event never recorded is complete (as in CUDA)");
            api.elementwiseFill(p, 4, 2f, compute);          // "the backward writes the gradient"
            api.eventRecord(ready, compute);
            api.streamWaitEvent(comm, ready);                // "the all-reduce stream waits for it"
            api.elementwiseScale(p, 4, 3f, comm);            // "the all-reduce" reads and writes it: 6
            api.eventRecord(done, comm);
            api.streamWaitEvent(compute, done);              // "the optimizer step waits for the sums"
            api.elementwiseAdd(p, p, p, 4, compute);         // 12
            api.eventSynchronize(done);
            assertTrue(api.eventQuery(done));
            api.streamSynchronize(compute);
            float[] back = new float[4];
            api.copyFloatsToHost(p, back, 0, 4);
            assertArrayEquals(new float[] {12, 12, 12, 12}, back);
            api.streamWaitEvent(0, done);                    // the default stream may wait too
        } finally {
            api.free(p);
            api.eventDestroy(ready);
            api.eventDestroy(done);
            api.streamDestroy(compute);
            api.streamDestroy(comm);
        }
    }

    @Test
    void eventHandlesAreValidated() {
        NativeApi api = emu();
        long s = api.streamCreate();
        try {
            assertMessage("event", () -> api.eventRecord(0, s));
            assertMessage("event", () -> api.eventRecord(12345, s));
            assertMessage("event", () -> api.streamWaitEvent(s, 12345));
            assertMessage("event", () -> api.eventQuery(12345));
            assertMessage("event", () -> api.eventSynchronize(12345));
            assertMessage("event", () -> api.eventDestroy(12345));
            long e = api.eventCreate();
            assertMessage("stream", () -> api.eventRecord(e, 1));
            assertMessage("stream", () -> api.streamWaitEvent(1, e));
            api.eventRecord(e, s);
            api.eventDestroy(e);
            assertMessage("event", () -> api.eventDestroy(e));
            assertMessage("event", () -> api.eventRecord(e, s));
            assertMessage("event", () -> api.streamWaitEvent(s, e));
            // No stale error: the next launch succeeds.
            long p = api.malloc(4);
            try {
                api.elementwiseFill(p, 1, 5f, s);
                float[] back = new float[1];
                api.copyFloatsToHost(p, back, 0, 1);
                assertArrayEquals(new float[] {5}, back);
            } finally {
                api.free(p);
            }
        } finally {
            api.streamDestroy(s);
        }
    }
}
