package dev.jtrain.docs;

import dev.jtrain.ensemble.ModelFactory;
import dev.jtrain.infer.Predictor;
import dev.jtrain.io.Checkpoint;
import dev.jtrain.io.StateDict;
import dev.jtrain.nn.Layer;
import dev.jtrain.random.Generator;
import dev.jtrain.tensor.Device;
import dev.jtrain.tensor.Tensor;
import dev.jtrain.train.Models;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** The README's inference example ("Using the library"), as written there, with a saved checkpoint. */
class ReadmePredictExampleTest {
    @TempDir
    Path runs;

    @Test
    void theReadmePredictExampleRuns() throws Exception {
        float[] pixels = new float[3 * 784];
        for (int i = 0; i < pixels.length; i++) {
            pixels[i] = (i * 37 % 101) / 100f;
        }
        Tensor batch = Tensor.of(pixels, 3, 784);
        Tensor rawImages = Tensor.of(pixels, 3, 28, 28);
        Path saved = runs.resolve("mlp.safetensors");
        int[] fromModel;
        int[] fromCheckpoint;
        Tensor logitsKept;
        Tensor probsKept;
        // ---- from the README
        Supplier<Layer> mlp = () -> Models.mlp(784, new int[] {512, 512}, 10, 0f, new Generator(0));
        Layer model = mlp.get();
        Checkpoint.ofInference(StateDict.of(model), null).save(saved); // (not in the README)
        try (Predictor predictor = Predictor.builder(model, mlp)
                .foldBatchNorm(true)
                .inputDims(784)
                .build()) {
            Tensor logits = predictor.predict(batch);
            Tensor probs = predictor.predictProbabilities(batch);
            int[] classes = predictor.predictClasses(batch);
            logitsKept = logits;
            probsKept = probs;
            fromModel = classes;
        }
        try (Predictor p = Predictor.load(saved,
                (checkpoint, dims, device) -> new ModelFactory.Built(
                        Models.mlp(784, new int[] {512, 512}, 10, 0f, new Generator(0), device), new int[] {784}),
                new int[] {28, 28}, Device.CPU, false)) {
            int[] digits = p.predictClasses(rawImages);
            fromCheckpoint = digits;
        }
        // ----
        assertEquals(3, fromModel.length);
        assertArrayEquals(fromModel, fromCheckpoint, "the checkpoint holds the same model");
        assertArrayEquals(new int[] {3, 10}, logitsKept.dims());
        assertArrayEquals(model.forward(batch, false).floats(), logitsKept.floats(), 0f,
                "the predictor's result is the caller's: the model's own later forward leaves it alone");
        float sum = 0;
        for (int c = 0; c < 10; c++) {
            sum += probsKept.floats()[c];
        }
        assertEquals(1f, sum, 1e-5f);
        model.close();
    }
}
