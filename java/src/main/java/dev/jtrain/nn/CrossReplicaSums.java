package dev.jtrain.nn;

/**
 * How a layer that needs statistics over the whole global batch (synchronized BatchNorm) reaches the other
 * replicas of a data-parallel run, without the layer knowing about communicators.
 */
public interface CrossReplicaSums {
    /** Element-wise sum over all replicas, in place; every replica gets the same bits. */
    void allReduceSum(double[] data);

    /**
     * This replica's share of the current step's global batch, n_local / n_global: the weight of its loss in the
     * global mean, which rescales gradients summed across replicas back to this replica's own loss.
     */
    double localWeight();
}
