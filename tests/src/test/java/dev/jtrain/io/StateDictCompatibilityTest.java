package dev.jtrain.io;

import dev.jtrain.nn.Sequential;
import dev.jtrain.nn.StateTensor;
import dev.jtrain.nn.layers.BatchNorm;
import dev.jtrain.nn.layers.BatchNorm1d;
import dev.jtrain.nn.layers.Linear;
import dev.jtrain.nn.layers.ReLU;
import dev.jtrain.random.Generator;
import dev.jtrain.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/**
 * A weights file in the format written before buffers were their own type (PyTorch's state_dict names:
 * {@code 1.running_mean}, {@code 1.num_batches_tracked}, ...; made by
 * {@code tests/src/test/resources/checkpoints/make_bn_mlp_v1.py}) still loads, into parameters and buffers,
 * and saving gives back the same names in the same order with the same values.
 */
class StateDictCompatibilityTest {
    private static final Path FILE = Path.of("checkpoints/bn_mlp_v1.safetensors");

    private static byte[] resource() throws IOException {
        try (InputStream in = StateDictCompatibilityTest.class.getResourceAsStream("/" + FILE)) {
            assertNotNull(in, FILE + " is not on the test classpath");
            return in.readAllBytes();
        }
    }

    private static float[] expected(String name, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = name.endsWith("running_var") ? 1 + i / 8f : i / 8f - 1;
        }
        return v;
    }

    @Test
    void anOldWeightsFileLoadsIntoParametersAndBuffersAndSavesBackIdentically() throws Exception {
        Map<String, Tensor> file = SafeTensors.read(resource(), FILE).tensors();
        Sequential net = new Sequential(new Linear(3, 4, true, new Generator(1)), new BatchNorm1d(4), new ReLU(),
                new Linear(4, 2, true, new Generator(2)));
        StateDict.load(net, file, FILE, name -> false);

        for (Map.Entry<String, StateTensor> e : net.namedState().entrySet()) {
            Tensor v = e.getValue().value();
            assertArrayEquals(expected(e.getKey(), v.numel()), v.toFloatArray(), 0f, e.getKey());
        }
        assertEquals(List.of("1.running_mean", "1.running_var"), List.copyOf(net.namedBuffers().keySet()));
        assertEquals(7, ((BatchNorm) net.get(1)).numBatchesTracked());

        Map<String, Tensor> saved = StateDict.of(net);
        assertEquals(List.copyOf(file.keySet()), List.copyOf(saved.keySet()), "names and PyTorch's order");
        ByteArrayOutputStream again = new ByteArrayOutputStream();
        SafeTensors.write(again, saved, Map.of());
        Map<String, Tensor> reread = SafeTensors.read(again.toByteArray(), FILE).tensors();
        for (String name : file.keySet()) {
            Tensor a = file.get(name);
            Tensor b = reread.get(name);
            assertEquals(a.dtype(), b.dtype(), name);
            assertEquals(a.shape(), b.shape(), name);
            if (a.dtype() == dev.jtrain.tensor.DType.INT64) {
                assertArrayEquals(a.longs(), b.longs(), name);
            } else {
                assertArrayEquals(a.floats(), b.floats(), 0f, name);
            }
        }
    }
}
