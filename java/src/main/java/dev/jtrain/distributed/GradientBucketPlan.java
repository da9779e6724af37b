package dev.jtrain.distributed;

import dev.jtrain.nn.Parameter;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * How the overlapped gradient all-reduce cuts the parameters into buckets, fixed for a run and the same on every rank
 * (it depends only on the parameter list and the bucket size): parameters in reverse registration order, the order a
 * backward finishes them, packed into buckets of at most {@code bucketFloats} floats; a tensor larger than the room
 * left is split across buckets. A parameter listed twice (tied weights under two names) is planned once.
 */
final class GradientBucketPlan {
    final Parameter[] params;          // distinct, in the order given (registration order)
    final int bucketFloats;
    final int[] bucketLength;          // floats in each bucket
    final int[][] segments;            // per bucket: (parameter index, offset in its gradient, length) triples
    final int[][] bucketsOf;           // per parameter index: the buckets it lies in, ascending
    final int[] paramsIn;              // per bucket: how many distinct parameters lie in it
    private final Map<Parameter, Integer> index = new IdentityHashMap<>();
    private final Parameter[] given;   // the array the plan was made from, to recognise it cheaply

    GradientBucketPlan(Parameter[] givenParams, int bucketFloats) {
        this.given = givenParams.clone();
        this.bucketFloats = bucketFloats;
        List<Parameter> distinct = new ArrayList<>();
        for (Parameter p : givenParams) {
            if (!index.containsKey(p)) {
                index.put(p, distinct.size());
                distinct.add(p);
            }
        }
        params = distinct.toArray(new Parameter[0]);
        List<int[]> segs = new ArrayList<>();
        List<int[]> bucketSegs = new ArrayList<>();
        List<Integer> lengths = new ArrayList<>();
        List<List<Integer>> of = new ArrayList<>();
        for (int i = 0; i < params.length; i++) {
            of.add(new ArrayList<>());
        }
        int fill = 0;
        for (int i = params.length - 1; i >= 0; i--) {   // reverse registration order: backward's order
            int n = params[i].value().numel();
            for (int off = 0; off < n; ) {
                int take = Math.min(n - off, bucketFloats - fill);
                segs.add(new int[] {i, off, take});
                List<Integer> mine = of.get(i);
                if (mine.isEmpty() || mine.get(mine.size() - 1) != lengths.size()) {
                    mine.add(lengths.size());
                }
                fill += take;
                off += take;
                if (fill == bucketFloats) {
                    closeBucket(segs, bucketSegs, lengths, fill);
                    fill = 0;
                }
            }
        }
        if (fill > 0) {
            closeBucket(segs, bucketSegs, lengths, fill);
        }
        int buckets = lengths.size();
        bucketLength = new int[buckets];
        segments = new int[buckets][];
        paramsIn = new int[buckets];
        for (int b = 0; b < buckets; b++) {
            bucketLength[b] = lengths.get(b);
            segments[b] = bucketSegs.get(b);
        }
        bucketsOf = new int[params.length][];
        for (int i = 0; i < params.length; i++) {
            bucketsOf[i] = of.get(i).stream().mapToInt(Integer::intValue).toArray();
            for (int b : bucketsOf[i]) {
                paramsIn[b]++;
            }
        }
    }

    private static void closeBucket(List<int[]> segs, List<int[]> bucketSegs, List<Integer> lengths, int fill) {
        int[] flat = new int[3 * segs.size()];
        for (int s = 0; s < segs.size(); s++) {
            System.arraycopy(segs.get(s), 0, flat, 3 * s, 3);
        }
        bucketSegs.add(flat);
        lengths.add(fill);
        segs.clear();
    }

    /** Whether this plan was made for {@code params} (the same objects in the same order) and this bucket size. */
    boolean matches(Parameter[] params, int bucketFloats) {
        if (this.bucketFloats != bucketFloats || given.length != params.length) {
            return false;
        }
        for (int i = 0; i < params.length; i++) {
            if (given[i] != params[i]) {
                return false;
            }
        }
        return true;
    }

    int buckets() {
        return bucketLength.length;
    }

    /** The plan's index of {@code p}, or -1 when it is not one of the planned parameters. */
    int indexOf(Parameter p) {
        Integer i = index.get(p);
        return i == null ? -1 : i;
    }

    /** "bucket 2/5 (1024 floats: parameters #3-#5)": parameters numbered in registration order, from 1. */
    String describe(int bucket) {
        int[] s = segments[bucket];
        int first = s[s.length - 3] + 1;   // segments run in reverse registration order
        int last = s[0] + 1;
        return "bucket " + (bucket + 1) + "/" + buckets() + " (" + bucketLength[bucket] + " floats: parameter"
                + (first == last ? " #" + first : "s #" + first + "-#" + last) + ")";
    }

    @Override
    public String toString() {
        return "GradientBucketPlan[" + params.length + " parameters in " + buckets() + " buckets of <= " + bucketFloats
                + " floats: " + Arrays.toString(bucketLength) + "]";
    }
}
