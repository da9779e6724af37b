/**
 * jtrain-core: tensors, backends, layers, losses, optimizers, data, checkpoints, the training loop,
 * ensembles and hyperparameter search. The exported packages are the library's API (the list is
 * README's "Using the library" and is checked by CoreModuleTest); the implementation packages stay
 * hidden: {@code backend.cpu.gemm} (the SGEMM, reached through the cpu backend) and {@code backend.cuda}
 * (the JNI bindings; {@code backend.gpu} is their public face). {@code backend.cpu} is exported for
 * {@code CpuThreadPool}, the caller's per-instance thread count (its kernels are package-private).
 * On the class path (as ./jtrain runs) every package is visible; this descriptor is what an application
 * on the module path sees.
 */
// EJML and JCuda have no module names of their own: their jar names stand in (automatic modules).
@SuppressWarnings({"requires-automatic", "requires-transitive-automatic"})
module dev.jtrain.core {
    requires jdk.incubator.vector;             // the CPU kernels (an incubator module: the JVM warns once)
    requires transitive com.fasterxml.jackson.databind;  // checkpoint sidecars and run reports (JsonNode is in the API)
    requires jdk.management;                   // AllocationMeter: per-thread allocated bytes
    requires ejml.core;                        // PCA/ZCA (EJML ships no module name: these are its jar names)
    requires ejml.ddense;
    requires static transitive jcuda;          // dev.jtrain.interop only, for applications that bring JCuda

    exports dev.jtrain.tensor;
    exports dev.jtrain.random;
    exports dev.jtrain.backend;
    exports dev.jtrain.backend.cpu;
    exports dev.jtrain.backend.gpu;
    exports dev.jtrain.nn;
    exports dev.jtrain.nn.layers;
    exports dev.jtrain.nn.loss;
    exports dev.jtrain.init;
    exports dev.jtrain.regularize;
    exports dev.jtrain.optim;
    exports dev.jtrain.optim.schedule;
    exports dev.jtrain.data;
    exports dev.jtrain.data.augment;
    exports dev.jtrain.data.preprocess;
    exports dev.jtrain.io;
    exports dev.jtrain.train;
    exports dev.jtrain.ensemble;
    exports dev.jtrain.infer;
    exports dev.jtrain.search;
    exports dev.jtrain.interop;
    exports dev.jtrain.distributed;            // Communicator: MPI ranks (libjtrain_mpi.so), NCCL for cuda tensors

    // tensor finds the backends without importing them (TensorDevice.Holder).
    uses dev.jtrain.tensor.TensorDevice.Provider;
    provides dev.jtrain.tensor.TensorDevice.Provider with dev.jtrain.backend.Backends.TensorDeviceProvider;
}
