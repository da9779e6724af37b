package dev.jtrain.backend.cpu;

/**
 * Double-precision special functions Java lacks: erf and erfc by W. J. Cody's rational Chebyshev
 * approximations (Math. Comp. 23 (1969) 631-637; the SPECFUN routine CALERF), relative error below
 * 1e-15 over the whole real line (erfc is computed directly in the tails, so no cancellation).
 */
final class CpuMath {
    private CpuMath() {
    }

    private static final double[] A = {3.16112374387056560e00, 1.13864154151050156e02,
        3.77485237685302021e02, 3.20937758913846947e03, 1.85777706184603153e-1};
    private static final double[] B = {2.36012909523441209e01, 2.44024637934444173e02,
        1.28261652607737228e03, 2.84423683343917062e03};
    private static final double[] C = {5.64188496988670089e-1, 8.88314979438837594e00,
        6.61191906371416295e01, 2.98635138197400131e02, 8.81952221241769090e02,
        1.71204761263407058e03, 2.05107837782607147e03, 1.23033935479799725e03,
        2.15311535474403846e-8};
    private static final double[] D = {1.57449261107098347e01, 1.17693950891312499e02,
        5.37181101862009858e02, 1.62138957456669019e03, 3.29079923573345963e03,
        4.36261909014324716e03, 3.43936767414372164e03, 1.23033935480374942e03};
    private static final double[] P = {3.05326634961232344e-1, 3.60344899949804439e-1,
        1.25781726111229246e-1, 1.60837851487422766e-2, 6.58749161529837803e-4,
        1.63153871373020978e-2};
    private static final double[] Q = {2.56852019228982242e00, 1.87295284992346725e00,
        5.27905102951428412e-1, 6.05183413124413191e-2, 2.33520497626869185e-3};
    private static final double SQRPI = 5.6418958354775628695e-1; // 1/sqrt(pi)
    private static final double THRESH = 0.46875;
    private static final double XSMALL = 1.11e-16;
    private static final double XBIG = 26.543;

    /** The error function. */
    static double erf(double x) {
        double y = Math.abs(x);
        if (y <= THRESH) {
            return x * small(y);
        }
        double erfc = y <= 4.0 ? mid(y) : tail(y);
        double r = (0.5 - erfc) + 0.5;
        return x < 0 ? -r : r;
    }

    /** The complementary error function 1 - erf(x), accurate in the tails. */
    static double erfc(double x) {
        double y = Math.abs(x);
        if (y <= THRESH) {
            return 1.0 - x * small(y);
        }
        double r = y <= 4.0 ? mid(y) : tail(y);
        return x < 0 ? 2.0 - r : r;
    }

    /** erf(x) / x for |x| <= 0.46875. */
    private static double small(double y) {
        double ysq = y > XSMALL ? y * y : 0.0;
        double xnum = A[4] * ysq;
        double xden = ysq;
        for (int i = 0; i < 3; i++) {
            xnum = (xnum + A[i]) * ysq;
            xden = (xden + B[i]) * ysq;
        }
        return (xnum + A[3]) / (xden + B[3]);
    }

    /** erfc(y) for 0.46875 < y <= 4. */
    private static double mid(double y) {
        double xnum = C[8] * y;
        double xden = y;
        for (int i = 0; i < 7; i++) {
            xnum = (xnum + C[i]) * y;
            xden = (xden + D[i]) * y;
        }
        return expMinusSquare(y) * ((xnum + C[7]) / (xden + D[7]));
    }

    /** erfc(y) for y > 4. */
    private static double tail(double y) {
        if (y >= XBIG) {
            return 0.0;
        }
        double ysq = 1.0 / (y * y);
        double xnum = P[5] * ysq;
        double xden = ysq;
        for (int i = 0; i < 4; i++) {
            xnum = (xnum + P[i]) * ysq;
            xden = (xden + Q[i]) * ysq;
        }
        double r = ysq * (xnum + P[4]) / (xden + Q[4]);
        r = (SQRPI - r) / y;
        return expMinusSquare(y) * r;
    }

    /** exp(-y^2) with y^2 split so the exponent's rounding error does not grow with y (Cody's trick). */
    private static double expMinusSquare(double y) {
        double ysq = Math.floor(y * 16.0) / 16.0;
        double del = (y - ysq) * (y + ysq);
        return Math.exp(-ysq * ysq) * Math.exp(-del);
    }
}
