// Elementwise activation formulas shared by the kernels (kernels/activations.cu) and host code, in
// float32, with PyTorch's derivative conventions (tests/conformance/FORMAT.md items 1-6):
//   relu'(0) = 0, leaky'(0) = slope, elu'(x <= 0) = alpha e^x, selu'(0) = scale * alpha,
//   sigmoid and tanh backward from the output (y (1 - y), 1 - y^2), gelu/silu/softplus'(0) = 0.5,
//   softplus linear only when beta x > threshold (strictly).
// The forms avoid cancellation where a textbook form has it (tanh-GELU through a sigmoid, exact GELU
// through erfc, SiLU's 1 - s as sigmoid(-x)), so float32 stays within a few ulp of float64.
#pragma once

#include "common.cuh"

#ifndef __CUDACC__
#include <cmath>
#endif

// Same order as Java's dev.jtrain.backend.Activation.Kind.
enum JtActKind {
    JT_ACT_RELU = 0,
    JT_ACT_LEAKY_RELU = 1,  // a = negative slope
    JT_ACT_ELU = 2,         // a = alpha
    JT_ACT_SELU = 3,        // constants below (a, b ignored)
    JT_ACT_SIGMOID = 4,
    JT_ACT_TANH = 5,
    JT_ACT_GELU_ERF = 6,
    JT_ACT_GELU_TANH = 7,
    JT_ACT_SILU = 8,
    JT_ACT_SOFTPLUS = 9,    // a = beta (> 0), b = threshold
    JT_ACT_IDENTITY = 10,
    JT_ACT_COUNT = 11
};

#define JT_SELU_ALPHA 1.6732632423543772848f
#define JT_SELU_SCALE 1.0507009873554804934f
#define JT_SQRT1_2 0.70710678118654752440f       // 1 / sqrt(2)
#define JT_INV_SQRT_2PI 0.39894228040143267794f  // 1 / sqrt(2 pi)
#define JT_SQRT_2_OVER_PI 0.79788456080286535588f
#define JT_GELU_C 0.044715f

// sigmoid(x) = 1 / (1 + e^-x), accurate for every x (no overflow warning path: e^-x -> inf gives 0).
JT_HD float jt_sigmoidf(float x) { return 1.f / (1.f + expf(-x)); }

// Forward: y = f(x).
JT_HD float jt_act_forward(int kind, float x, float a, float b) {
    switch (kind) {
        case JT_ACT_RELU:
            return x > 0.f ? x : (x == x ? 0.f : x);  // NaN propagates like torch.relu
        case JT_ACT_LEAKY_RELU:
            return x > 0.f ? x : x * a;
        case JT_ACT_ELU:
            return x > 0.f ? x : a * expm1f(x);
        case JT_ACT_SELU:
            return JT_SELU_SCALE * (x > 0.f ? x : JT_SELU_ALPHA * expm1f(x));
        case JT_ACT_SIGMOID:
            return jt_sigmoidf(x);
        case JT_ACT_TANH:
            return tanhf(x);
        case JT_ACT_GELU_ERF:
            // 0.5 x (1 + erf(x / sqrt2)) = 0.5 x erfc(-x / sqrt2): no cancellation for x << 0.
            return 0.5f * x * erfcf(-x * JT_SQRT1_2);
        case JT_ACT_GELU_TANH: {
            // 0.5 x (1 + tanh(u)) = x sigmoid(2u), u = sqrt(2/pi) (x + 0.044715 x^3).
            const float u = JT_SQRT_2_OVER_PI * (x + JT_GELU_C * x * x * x);
            return x * jt_sigmoidf(2.f * u);
        }
        case JT_ACT_SILU:
            return x * jt_sigmoidf(x);
        case JT_ACT_SOFTPLUS: {
            const float bx = a * x;
            return bx > b ? x : log1pf(expf(bx)) / a;
        }
        default:  // JT_ACT_IDENTITY
            return x;
    }
}

// Backward: dx = dy * f'(.). `x` is the input and `y` the output of the forward pass; sigmoid and tanh
// read only y (PyTorch), every other kind reads only x (relu may be given y in place of x: y > 0
// exactly where x > 0).
JT_HD float jt_act_backward(int kind, float x, float y, float dy, float a, float b) {
    switch (kind) {
        case JT_ACT_RELU:
            return x > 0.f ? dy : 0.f;
        case JT_ACT_LEAKY_RELU:
            return x > 0.f ? dy : dy * a;
        case JT_ACT_ELU:
            return x > 0.f ? dy : dy * (a * expf(x));
        case JT_ACT_SELU:
            return dy * (x > 0.f ? JT_SELU_SCALE : JT_SELU_SCALE * JT_SELU_ALPHA * expf(x));
        case JT_ACT_SIGMOID:
            return dy * (y * (1.f - y));
        case JT_ACT_TANH:
            return dy * (1.f - y * y);
        case JT_ACT_GELU_ERF: {
            const float cdf = 0.5f * erfcf(-x * JT_SQRT1_2);
            const float pdf = JT_INV_SQRT_2PI * expf(-0.5f * x * x);
            return dy * (cdf + x * pdf);
        }
        case JT_ACT_GELU_TANH: {
            // d/dx [0.5 x (1 + t)] = 0.5 (1 + t) + 0.5 x (1 - t^2) u'(x), with 1 + t = 2 s(2u) and
            // 1 - t = 2 s(-2u) computed without cancellation.
            const float x2 = x * x;
            const float u = JT_SQRT_2_OVER_PI * (x + JT_GELU_C * x2 * x);
            const float onePlusT = 2.f * jt_sigmoidf(2.f * u);
            const float oneMinusT = 2.f * jt_sigmoidf(-2.f * u);
            const float du = JT_SQRT_2_OVER_PI * (1.f + 3.f * JT_GELU_C * x2);
            return dy * (0.5f * onePlusT + 0.5f * x * (onePlusT * oneMinusT) * du);
        }
        case JT_ACT_SILU: {
            // s (1 + x (1 - s)), 1 - s = sigmoid(-x).
            const float s = jt_sigmoidf(x);
            const float sm = jt_sigmoidf(-x);
            return dy * (s * (1.f + x * sm));
        }
        case JT_ACT_SOFTPLUS: {
            const float bx = a * x;
            return bx > b ? dy : dy * jt_sigmoidf(bx);
        }
        default:  // JT_ACT_IDENTITY
            return dy;
    }
}
