package dev.jtrain.backend.cpu.gemm;

import jdk.incubator.vector.FloatVector;

/** Asks the Vector API for the preferred float vector width; loaded only when the module is present. */
final class VectorSpeciesProbe {
    private VectorSpeciesProbe() {}

    static int preferredFloatLanes() {
        return FloatVector.SPECIES_PREFERRED.length();
    }
}
