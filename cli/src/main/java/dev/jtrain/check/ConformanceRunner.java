package dev.jtrain.check;

import dev.jtrain.tensor.TensorScope;

import com.fasterxml.jackson.databind.JsonNode;
import dev.jtrain.tensor.Device;
import dev.jtrain.tensor.TensorScope;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The conformance runner behind {@code jtrain check} (FORMAT.md, "The runner"): runs case files on one
 * device through the library's own layers, losses, optimizers, schedules, regularizers and initializers
 * (one {@link OpCase} handler per op family) and compares every output and gradient of each case with
 * the reference ({@code *_f64} where present), using {@code tol.float32} (else {@code tol.float64}).
 * Errors never escape: a bad file or case is a FAIL with a message naming what was wrong.
 */
public final class ConformanceRunner {
    private final Device device;
    private final Map<String, OpCase> handlers = new LinkedHashMap<>();

    /** A runner with every built-in handler. */
    public ConformanceRunner(Device device) {
        this(device, defaultHandlers());
    }

    public ConformanceRunner(Device device, List<OpCase> handlers) {
        this.device = device;
        for (OpCase h : handlers) {
            register(h);
        }
    }

    /** The built-in handlers, one per op family. */
    public static List<OpCase> defaultHandlers() {
        return List.of(new LinearCase(), new ActivationCases(), new LossCases(), new BatchNormCases(), new ConvCases(),
                new PoolCases(), new OptimizerCases(), new ScheduleCases(), new RegularizerCases(), new InitStatsCases(),
                new TrainingRunCase(), new NormalizationCases());
    }

    /** Adds (or replaces) the handler of each of its ops. */
    public void register(OpCase handler) {
        for (String op : handler.ops()) {
            handlers.put(op, handler);
        }
    }

    public Device device() {
        return device;
    }

    /** The ops this runner knows. */
    public List<String> ops() {
        return new ArrayList<>(handlers.keySet());
    }

    public CheckReport run(List<Path> filesOrDirs) {
        return run(filesOrDirs, r -> { });
    }

    /** Runs every file (a directory means its *.json files except index.json); {@code listener} sees each result. */
    public CheckReport run(List<Path> filesOrDirs, Consumer<CaseResult> listener) {
        List<CaseResult> all = new ArrayList<>();
        for (Path p : filesOrDirs) {
            List<Path> files;
            try {
                files = expand(p);
            } catch (CaseException e) {
                CaseResult r = fileFailure(p.toString(), e.getMessage());
                all.add(r);
                listener.accept(r);
                continue;
            }
            for (Path f : files) {
                for (CaseResult r : runFile(f, listener)) {
                    all.add(r);
                }
            }
        }
        return new CheckReport(device.toString(), all);
    }

    /** A file as itself; a directory as its *.json files (not recursive, index.json skipped), sorted by name. */
    public static List<Path> expand(Path p) {
        if (Files.isDirectory(p)) {
            List<Path> files = new ArrayList<>();
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(p, "*.json")) {
                for (Path f : ds) {
                    if (!f.getFileName().toString().equals("index.json") && Files.isRegularFile(f)) {
                        files.add(f);
                    }
                }
            } catch (IOException e) {
                throw new CaseException("cannot list directory: " + e.getMessage());
            }
            files.sort((a, b) -> a.getFileName().toString().compareTo(b.getFileName().toString()));
            if (files.isEmpty()) {
                throw new CaseException("directory has no *.json case files");
            }
            return files;
        }
        if (!Files.exists(p)) {
            throw new CaseException("no such file or directory");
        }
        return List.of(p);
    }

    public List<CaseResult> runFile(Path file) {
        return runFile(file, r -> { });
    }

    public List<CaseResult> runFile(Path file, Consumer<CaseResult> listener) {
        String label = file.toString();
        CaseFile cf;
        try {
            cf = CaseFile.read(file);
        } catch (CaseException e) {
            CaseResult r = fileFailure(label, e.getMessage());
            listener.accept(r);
            return List.of(r);
        } catch (RuntimeException e) {
            CaseResult r = fileFailure(label, "cannot read file: " + describe(e));
            listener.accept(r);
            return List.of(r);
        }
        List<CaseResult> out = new ArrayList<>();
        if (cf.cases().isEmpty()) {
            CaseResult r = fileFailure(label, "the file has no cases");
            listener.accept(r);
            return List.of(r);
        }
        for (CaseData c : cf.cases()) {
            CaseResult r = runCase(label, c);
            out.add(r);
            listener.accept(r);
        }
        return out;
    }

    private static CaseResult fileFailure(String file, String message) {
        return new CaseResult(file, null, null, Status.FAIL, Double.NaN, Double.NaN, null,
                "file " + file + ": " + message);
    }

    /** Runs and compares one case. */
    public CaseResult runCase(String fileLabel, CaseData c) {
        String name = c.displayName();
        String op = c.op();
        if (!c.json().isObject()) {
            return fail(fileLabel, name, op, "bad JSON: the case is not an object");
        }
        if (c.name() == null) {
            return fail(fileLabel, name, op, "bad case: no \"name\"");
        }
        if (op == null) {
            return fail(fileLabel, name, null, "bad case: no \"op\"");
        }
        OpCase handler = handlers.get(op);
        if (handler == null) {
            return new CaseResult(fileLabel, name, op, Status.UNSUPPORTED, Double.NaN, Double.NaN, null,
                    "op '" + op + "' is not known to this runner");
        }
        CaseContext ctx = new CaseContext(c, device);
        // The case's device tensors (inputs, layers, optimizer state, outputs) go back to the pool at its end.
        try (TensorScope scope = TensorScope.open()) {
            validateTensors(c);
            handler.run(ctx);
            return compare(fileLabel, c, ctx);
        } catch (UnsupportedCaseException e) {
            return new CaseResult(fileLabel, name, op, Status.UNSUPPORTED, Double.NaN, Double.NaN, null,
                    "file " + fileLabel + ", case " + name + ": " + e.getMessage());
        } catch (CaseException e) {
            return fail(fileLabel, name, op, e.getMessage());
        } catch (Exception | StackOverflowError | AssertionError | LinkageError e) {
            return fail(fileLabel, name, op, "error: " + describe(e));
        } catch (OutOfMemoryError e) {
            return fail(fileLabel, name, op, "out of memory running the case");
        }
    }

    /**
     * Parses every tensor of every section, also those the comparison will not use (e.g. {@code outputs} when
     * {@code outputs_f64} is there): a corrupt tensor anywhere fails its case, naming the section and tensor.
     */
    private static void validateTensors(CaseData c) {
        for (String section : CaseData.SECTIONS) {
            for (String name : c.names(section)) {
                c.tensor(section, name);
            }
        }
    }

    private CaseResult fail(String file, String name, String op, String message) {
        return new CaseResult(file, name, op, Status.FAIL, Double.NaN, Double.NaN, null,
                "file " + file + ", case " + name + ": " + message);
    }

    /** "IllegalArgumentException: message (at Class.method:line)" for an unexpected exception. */
    static String describe(Throwable e) {
        String msg = e.getMessage();
        StringBuilder sb = new StringBuilder(e.getClass().getSimpleName());
        if (msg != null && !msg.isEmpty()) {
            sb.append(": ").append(msg);
        }
        StackTraceElement[] st = e.getStackTrace();
        if (st.length > 0 && (msg == null || e instanceof NullPointerException || e instanceof ClassCastException
                || e instanceof ArrayIndexOutOfBoundsException)) {
            sb.append(" (at ").append(st[0].getClassName().replaceFirst("^.*\\.", "")).append('.')
                    .append(st[0].getMethodName()).append(':').append(st[0].getLineNumber()).append(')');
        }
        return sb.toString();
    }

    /** The case's tolerance for a float32 engine: tol.float32, else tol.float64 (rtol, atol). */
    static double[] tolerance(CaseData c) {
        JsonNode tol = c.tol();
        JsonNode t = tol.get("float32");
        if (t == null) {
            t = tol.get("float64");
        }
        if (t == null || !t.isObject()) {
            throw new CaseException("bad tol: no tol.float32 or tol.float64 object");
        }
        JsonNode r = t.get("rtol");
        JsonNode a = t.get("atol");
        double rtol = r == null ? 0 : CaseTensor.number("tol.rtol", r, false);
        double atol = a == null ? 0 : CaseTensor.number("tol.atol", a, false);
        if (!(rtol >= 0) || !(atol >= 0) || rtol + atol == 0) {
            throw new CaseException("bad tol: rtol " + rtol + " and atol " + atol + " (need >= 0, not both 0)");
        }
        return new double[] {rtol, atol};
    }

    private CaseResult compare(String file, CaseData c, CaseContext ctx) {
        String name = c.displayName();
        String op = c.op();
        List<Comparison> comps = new ArrayList<>();
        double[] tol = null;
        List<String> names = ctx.expectedNames();
        for (String n : names) {
            Comparison custom = ctx.custom(n);
            if (custom != null) {
                comps.add(custom);
                continue;
            }
            if (ctx.isInformational(n)) {
                continue;
            }
            CaseContext.Actual a = ctx.actual(n);
            if (a == null) {
                return fail(file, name, op, "no result for '" + n + "' (the runner does not compute it for op " + op + ")");
            }
            CaseTensor e = ctx.expected(n);
            int[] es = e.shape();
            if (!Arrays.equals(a.shape(), es) && !(a.values().length == 1 && e.numel() == 1)) {
                return fail(file, name, op, "wrong shape: result '" + n + "' has shape " + Arrays.toString(a.shape())
                        + ", " + e.where() + " has shape " + Arrays.toString(es));
            }
            if (tol == null) {
                tol = tolerance(c);
            }
            comps.add(Comparison.of(n, es, a.values(), e.values(), tol[0], tol[1], e.isInteger() || a.integer()));
        }
        for (Map.Entry<String, Comparison> extra : ctx.customs().entrySet()) {
            if (!names.contains(extra.getKey())) {
                comps.add(extra.getValue());
            }
        }
        if (comps.isEmpty()) {
            return fail(file, name, op, "the case has no outputs or gradients to compare");
        }
        double worst = 0;
        double maxAbs = 0;
        String worstTensor = null;
        String firstFailure = null;
        for (Comparison k : comps) {
            if (worstTensor == null || k.worstRatio() > worst) {
                worst = k.worstRatio();
                worstTensor = k.tensor();
            }
            maxAbs = Math.max(maxAbs, k.maxAbsErr());
            if (!k.passed() && firstFailure == null) {
                firstFailure = k.failureMessage();
            }
        }
        String notes = ctx.notes().isEmpty() ? null : String.join("; ", ctx.notes());
        if (firstFailure != null) {
            return new CaseResult(file, name, op, Status.FAIL, worst, maxAbs, worstTensor,
                    notes == null ? firstFailure : firstFailure + "; " + notes);
        }
        return new CaseResult(file, name, op, Status.PASS, worst, maxAbs, worstTensor, notes);
    }
}
