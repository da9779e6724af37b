package dev.jtrain.backend.cpu;
import dev.jtrain.backend.ConvSpec;
/**
 * The convolutions of lenet and cnn at batch 128 (see ConvBenchmark), timed alternately with
 * {@link ConvPerSampleBaseline} (the per-sample code before) and CpuConv in one JVM: rounds of 5 calls
 * of each, the first 3 rounds warm-up, the minimum per variant. Alternating in one process makes the
 * ratio robust on a shared, loaded machine, where separate runs minutes apart are not comparable.
 *
 * <pre>
 * java --add-modules jdk.incubator.vector -cp bench/target/benchmarks.jar dev.jtrain.backend.cpu.ConvAbComparison THREADS ROUNDS
 * </pre>
 */
public class ConvAbComparison {
    public static void main(String[] a) {
        try (CpuThreadPool pool = new CpuThreadPool(Integer.parseInt(a[0]))) {
            pool.run(() -> compare(a));
        }
    }

    private static void compare(String[] a) {
        int rounds = Integer.parseInt(a[1]);
        int[][] shapes = {{1,28,6,5,2},{6,14,16,5,0},{1,28,32,3,1},{32,14,64,3,1}};
        String[] names = {"lenet1","lenet2","cnn1","cnn2"};
        for (int si = 0; si < 4; si++) {
            int n=128, cin=shapes[si][0], hw=shapes[si][1], cout=shapes[si][2], kk=shapes[si][3], pad=shapes[si][4];
            ConvSpec s = ConvSpec.square(kk,1,pad); int oh=hw+2*pad-kk+1, p=oh*oh, k=cin*kk*kk;
            java.util.Random r=new java.util.Random(1);
            float[] x=new float[n*cin*hw*hw], w=new float[cout*k], b=new float[cout], y=new float[n*cout*p], dy=new float[n*cout*p];
            float[] dx = cin==1 ? null : new float[x.length], dw=new float[w.length], db=new float[cout];
            for(int i=0;i<x.length;i++)x[i]=(float)r.nextGaussian(); for(int i=0;i<w.length;i++)w[i]=(float)r.nextGaussian(); for(int i=0;i<dy.length;i++)dy[i]=(float)r.nextGaussian();
            double[] best = {1e9,1e9,1e9,1e9};
            for (int round = 0; round < rounds; round++) {
                for (int v = 0; v < 2; v++) {
                    for (int fb = 0; fb < 2; fb++) {
                        long t0 = System.nanoTime();
                        for (int it = 0; it < 5; it++) {
                            if (v == 0) { ConvPerSampleBaseline.forward(x,w,b,y,n,cin,hw,hw,cout,oh,oh,s); if (fb==1) ConvPerSampleBaseline.backward(x,w,dy,dx,dw,db,n,cin,hw,hw,cout,oh,oh,s); }
                            else { CpuConv.forward(x,w,b,y,n,cin,hw,hw,cout,oh,oh,s); if (fb==1) CpuConv.backward(x,w,dy,dx,dw,db,n,cin,hw,hw,cout,oh,oh,s); }
                        }
                        double ms = (System.nanoTime()-t0)/5e6;
                        if (round >= 3) best[v*2+fb] = Math.min(best[v*2+fb], ms);
                    }
                }
            }
            System.out.printf("%-7s threads=%s  forward old %7.3f new %7.3f (new/old %.2f)   fwd+bwd old %7.3f new %7.3f (new/old %.2f)%n",
                names[si], a[0], best[0], best[2], best[2]/best[0], best[1], best[3], best[3]/best[1]);
        }
    }
}
