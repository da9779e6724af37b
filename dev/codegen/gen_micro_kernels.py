import sys
def gen(cls, MR, NV, doc):
    def tile_method(name, rowA, acc):
        decl = "\n".join("        FloatVector " + ", ".join(f"c{r}{v} = FloatVector.zero(S)" for v in range(NV)) + ";" for r in range(MR))
        body = []
        for r in range(MR):
            idx = f"a{r} + p" if rowA else f"ai + {r}"
            body.append(f"            a = FloatVector.broadcast(S, ap[{idx}]);")
            for v in range(NV):
                body.append(f"            c{r}{v} = a.fma(b{v}, c{r}{v});")
        body = "\n".join(body)
        pre = ""
        if rowA:
            pre = "        final int " + ", ".join(f"a{r} = ao + {r} * kc" if r else "a0 = ao" for r in range(MR)) + ";\n"
        def off(r, v):
            return f"co + {r} * ldc" + (f" + {v} * VL" if v > 1 else (" + VL" if v == 1 else ""))
        if not acc:
            st = "\n".join(f"        c{r}{v}.mul(alpha).intoArray(c, {off(r,v)});" for r in range(MR) for v in range(NV))
            sig = "float alpha, float[] c, int co, int ldc"
        else:
            st = "        FloatVector av = FloatVector.broadcast(S, alpha);\n" + "\n".join(f"        c{r}{v}.fma(av, FloatVector.fromArray(S, c, {off(r,v)}).mul(beta)).intoArray(c, {off(r,v)});" for r in range(MR) for v in range(NV))
            sig = "float alpha, float beta, float[] c, int co, int ldc"
        aidx = "" if rowA else "            int ai = ao + p * PackA.GROUP;\n"
        loads = "\n".join(f"            FloatVector b{v} = FloatVector.fromArray(S, bp, bi" + (f" + {v} * VL" if v > 1 else (" + VL" if v == 1 else "")) + ");" for v in range(NV))
        return f'''    @Override
    public void {name}(int kc, float[] ap, int ao, float[] bp, int bo, {sig}) {{
{pre}{decl}
        for (int p = 0; p < kc; p++) {{
{aidx}            int bi = bo + p * NR;
{loads}
            FloatVector a;
{body}
        }}
{st}
    }}
'''
    return f'''package dev.jtrain.backend.cpu.gemm;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

{doc}
final class {cls} implements GemmKernel {{
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int VL = S.length();
    static final int MR = {MR};
    static final int NR = {NV} * VL;

    @Override
    public int mr() {{
        return MR;
    }}

    @Override
    public int nr() {{
        return NR;
    }}

    @Override
    public String describe() {{
        return "Vector API, " + S.vectorBitSize() + "-bit (" + VL + " floats), tile " + MR + "x" + NR;
    }}

    @Override
    public void packA(boolean transA, float[] a, int aOff, int lda, int i0, int mc, int p0, int kc, float[] dst) {{
        VectorPack.packA(transA, a, aOff, lda, i0, mc, p0, kc, MR, dst);
    }}

    @Override
    public void packB(boolean transB, float[] b, int bOff, int ldb, int p0, int kc, int j0, int nc, float[] dst) {{
        VectorPack.packB(transB, b, bOff, ldb, p0, kc, j0, nc, NR, dst);
    }}

{tile_method("setDepthA", False, False)}
{tile_method("addDepthA", False, True)}
{tile_method("setRowA", True, False)}
{tile_method("addRowA", True, True)}
    @Override
    public void storeEdge(float[] t, int rows, int cols, float alpha, float beta,
                          float[] c, int co, int ldc) {{
        VectorPack.storeEdge(t, NR, rows, cols, alpha, beta, c, co, ldc);
    }}
}}
'''

doc8 = '''/**
 * The SIMD micro-kernel (Vector API, {@code jdk.incubator.vector}) for machines with 32 vector
 * registers (AVX-512, NEON, SVE): an 8 x (2 vectors) tile of C kept in 16 registers across the whole
 * kc loop, one broadcast of A and two {@code fma}s per tile row and depth step. With 512-bit vectors
 * the tile is 8 x 32 floats and runs at the FMA limit (2 x 16-lane fma per cycle on Zen 5).
 *
 * <p>Loaded only after {@link Sgemm} has checked that the incubator module is present.
 * Rules learned the hard way:
 * <ul>
 *   <li>the species sits in a {@code static final} field (held in an instance field the same code
 *       ran 40x slower);</li>
 *   <li>each tile method stays a small method that the driver calls many times (a long loop
 *       entered once got an on-stack-replacement compile that boxed the vectors);</li>
 *   <li>each tile method is branch-free apart from its loop (one method per A layout and per
 *       beta case): a branch first taken late (beta != 0 appears only once k > kc) made C2
 *       deoptimise the kernel, and the recompile went through slow OSR code for seconds.</li>
 * </ul>
 * Each lane is one fma chain, so every element of C gets the same roundings as
 * {@code Math.fma(a, b, acc)} in depth order, whatever the tile position.
 *
 * <p>The unrolled tile methods were generated (the accumulators must be separate locals, not an
 * array, or C2 boxes them); keep the pattern when editing.
 */'''
doc4 = '''/**
 * The SIMD micro-kernel for 256-bit vectors with 16 vector registers (AVX2): a 4 x (3 vectors) tile,
 * 4 x 24 floats, so the 12 accumulators, 3 vectors of B and the broadcast of A fit in the 16
 * registers (the 8 x 2 tile of {@link VectorMicroKernel} would need 19 and spill). Otherwise the
 * same as {@link VectorMicroKernel}, and unrolled the same way.
 */'''
import os
d=os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../java/src/main/java/dev/jtrain/backend/cpu/gemm/")
open(d+"VectorMicroKernel.java","w").write(gen("VectorMicroKernel", 8, 2, doc8))
open(d+"VectorMicroKernelAvx2.java","w").write(gen("VectorMicroKernelAvx2", 4, 3, doc4))
