package dev.jtrain.train;

import dev.jtrain.optim.Optimizer;
import dev.jtrain.optim.schedule.CosineAnnealingLR;
import dev.jtrain.tensor.Tensor;

/**
 * The default recipes' learning-rate decay: PyTorch's {@link CosineAnnealingLR} stepped after every optimizer
 * step, from the optimizer's lr down to 0 over the whole run (epochs × steps per epoch), so the last epoch trains
 * at a small lr and the final weights are not the noisy ones of a constant lr. Built when training starts (the
 * step count is known then); the per-step hook reads no tensor, so it adds no device synchronisation.
 */
public final class CosineDecayListener implements TrainingListener {
    private final Optimizer optimizer;
    private CosineAnnealingLR schedule;

    public CosineDecayListener(Optimizer optimizer) {
        this.optimizer = optimizer;
    }

    @Override
    public void onTrainStart(int epochs, int stepsPerEpoch, int trainSamples) {
        schedule = new CosineAnnealingLR(optimizer, Math.max(1, epochs * stepsPerEpoch), 0.0);
    }

    @Override
    public void onStep(int epoch, int step, int batchSize, Tensor loss) {
        schedule.step();
    }
}
