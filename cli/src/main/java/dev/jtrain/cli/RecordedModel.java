package dev.jtrain.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.jtrain.ensemble.MemberLoader;
import dev.jtrain.ensemble.ModelFactory;
import dev.jtrain.io.Checkpoint;
import dev.jtrain.io.CheckpointException;
import dev.jtrain.nn.Layer;
import dev.jtrain.random.Generator;
import dev.jtrain.tensor.Device;
import dev.jtrain.train.Models;
import dev.jtrain.train.Recipe;
import picocli.CommandLine;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Rebuilds the model of a {@code jtrain train} checkpoint from the options its sidecar records ({@code config.options},
 * parsed by {@link TrainCommand}'s own option definitions, so every architecture switch means what it meant when the
 * run was saved): {@code --model}, {@code --hidden}, {@code --dropout}, {@code --activation}, {@code --batchnorm},
 * {@code --drop-connect}, {@code --stochastic-depth}; the class count is the one of the checkpoint's head. The
 * initial weights do not matter: the checkpoint's replace them.
 */
final class RecordedModel implements ModelFactory {

    @Override
    public Built build(Checkpoint c, int[] sampleDims, Device device) throws CheckpointException {
        TrainCommand cmd = options(c);
        String model = cmd.model;
        int[] hidden;
        float dropout;
        Models.Options switches = cmd.modelOptions.options();
        int[] inputDims;
        try {
            hidden = TrainCommand.parseHidden(cmd.hidden);
            dropout = cmd.dropout != null ? cmd.dropout : Recipe.forModel(model).dropout();
            Models.validate(model, hidden, dropout, switches);
            inputDims = Models.inputDims(model, sampleDims);
        } catch (IllegalArgumentException e) {
            throw new CheckpointException(c.sidecarFile(), "config.options: " + e.getMessage(), e);
        }
        Layer probe = Models.build(model, inputDims, 1, hidden, dropout, switches, new Generator(0), Device.CPU);
        int classes;
        try (probe) {
            classes = MemberLoader.headClasses(probe, c, c.file());
        }
        return new Built(Models.build(model, inputDims, classes, hidden, dropout, switches, new Generator(0), device),
                inputDims);
    }

    /** The recorded options of {@code c} parsed into a fresh (unrun) {@link TrainCommand}. */
    static TrainCommand options(Checkpoint c) throws CheckpointException {
        JsonNode options = c.config().path("options");
        if (!options.isObject()) {
            throw new CheckpointException(c.sidecarFile(), "config.options: no recorded jtrain train options to rebuild "
                    + "the model from (a checkpoint written by jtrain train or jtrain export has them)");
        }
        TrainCommand cmd = new TrainCommand();
        CommandLine cl = new CommandLine(cmd);
        List<String> args = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = options.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (cl.getCommandSpec().findOption(e.getKey()) != null && !CheckpointOptions.SESSION.contains(e.getKey())) {
                CheckpointOptions.addArgs(e.getKey(), e.getValue(), args); // options this jtrain lacks are ignored
            }
        }
        CommandLine.ParseResult pr = cl.parseArgs(args.toArray(new String[0]));
        if (!pr.errors().isEmpty()) {
            throw new CheckpointException(c.sidecarFile(), "config.options " + args + " do not parse: "
                    + pr.errors().get(0).getMessage());
        }
        return cmd;
    }
}
