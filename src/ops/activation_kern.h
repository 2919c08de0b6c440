// Per-element activation math shared by the CPU loop and the CUDA kernel.
#pragma once
#include <cmath>

#include "mabdet/ops.h"
#include "ops/hd.h"

namespace mabdet::ops {
constexpr float kLeakySlope = 0.1f;  // darknet's leaky

MABDET_HD float act_forward(Act a, float x) {
  switch (a) {
    case Act::Relu: return x > 0.f ? x : 0.f;
    case Act::Leaky: return x > 0.f ? x : kLeakySlope * x;
    case Act::Logistic: return 1.f / (1.f + expf(-x));
    default: return x;
  }
}

// Derivative written in terms of the output y = f(x).
MABDET_HD float act_grad(Act a, float y) {
  switch (a) {
    case Act::Relu: return y > 0.f ? 1.f : 0.f;
    case Act::Leaky: return y > 0.f ? 1.f : kLeakySlope;
    case Act::Logistic: return y * (1.f - y);
    default: return 1.f;
  }
}
}  // namespace mabdet::ops
