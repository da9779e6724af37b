package dev.jtrain.modules;

import dev.jtrain.nn.layers.ReLU;
import dev.jtrain.tensor.Device;
import dev.jtrain.tensor.Tensor;

import java.util.Arrays;

/**
 * Run by {@link CoreModuleTest} in a child JVM with jtrain-core on the module path and this class on the
 * class path: an application's view of the module. Prints the module's name and a ReLU computed on
 * {@code args[0]} (cpu or emu: emu loads the native library from the module's jar).
 */
public final class ModulePathProbe {
    private ModulePathProbe() {
    }

    public static void main(String[] args) {
        Device device = Device.parse(args[0]);
        System.out.println("module " + Tensor.class.getModule().getName());
        try (Tensor x = Tensor.of(new float[] {-1, 2, -3, 4}, 4).to(device);
             Tensor y = new ReLU().forward(x, false)) {
            System.out.println("relu " + Arrays.toString(y.to(Device.CPU).toFloatArray()));
        }
    }
}
