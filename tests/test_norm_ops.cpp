// The normalization ops (src/ops/norm_ops.cpp) directly: index layout and double accumulation.
#include <doctest/doctest.h>

#include <cmath>

#include "mabdet/ops.h"
#include "mabdet/rng.h"

using namespace mabdet;

TEST_CASE("norm ops: per-channel vs per-plane indexing") {
  const Shape s{2, 3, 1, 2};
  Tensor x(s);
  for (size_t i = 0; i < x.size(); ++i) x[i] = float(i);  // plane (n,c) holds 2k, 2k+1 with k = n*3+c
  Tensor ch(1, 3), pl(1, 6);
  ops::norm_sum(Device::CPU, s, ops::Per::Channel, x.data(), ch.data());
  ops::norm_sum(Device::CPU, s, ops::Per::Plane, x.data(), pl.data());
  for (int k = 0; k < 6; ++k) CHECK(pl[k] == float(4 * k + 1));
  for (int c = 0; c < 3; ++c) CHECK(ch[c] == pl[c] + pl[3 + c]);
  const float center[6] = {1, 2, 3, 4, 5, 6}, a[6] = {1, 2, 3, 4, 5, 6}, b[6] = {-1, -2, -3, -4, -5, -6};
  ops::norm_centered_sumsq(Device::CPU, s, ops::Per::Plane, x.data(), center, pl.data());
  for (int k = 0; k < 6; ++k) CHECK(pl[k] == doctest::Approx(std::pow(2 * k - center[k], 2) + std::pow(2 * k + 1 - center[k], 2)));
  ops::norm_dot(Device::CPU, s, ops::Per::Channel, x.data(), x.data(), center, ch.data());
  for (int c = 0; c < 3; ++c) {
    double want = 0;
    for (int n = 0; n < 2; ++n)
      for (int i = 0; i < 2; ++i) {
        const double v = 2 * (n * 3 + c) + i;
        want += v * (v - center[c]);
      }
    CHECK(ch[c] == doctest::Approx(want));
  }
  Tensor y(s), dx(s);
  ops::norm_affine(Device::CPU, s, ops::Per::Plane, x.data(), a, b, y.data());
  dx.fill(1.f);
  ops::norm_backward(Device::CPU, s, ops::Per::Channel, x.data(), a, x.data(), b, center, dx.data(), true);
  for (int n = 0; n < 2; ++n)
    for (int c = 0; c < 3; ++c)
      for (int i = 0; i < 2; ++i) {
        const float v = x.at(n, c, 0, i);
        CHECK(y.at(n, c, 0, i) == v * a[n * 3 + c] + b[n * 3 + c]);
        CHECK(dx.at(n, c, 0, i) == doctest::Approx(1 + a[c] * v + b[c] * v + center[c]));
      }
}

TEST_CASE("norm ops: mean and variance of a large-offset channel stay exact to float precision") {
  // 2^20 values 1000 + u, u uniform in [-0.01, 0.01]: float accumulators lose the mean (the running
  // sum reaches 1e9, where a float step is 64) and several digits of the variance.
  const Shape s{1, 1, 1024, 1024};
  Tensor x(s), out(1, 1);
  Rng rng(5);
  double sum = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    x[i] = float(1000.0 + rng.uniform(-0.01, 0.01));
    sum += x[i];
  }
  const double mean_ref = sum / x.size();
  double css = 0;
  for (size_t i = 0; i < x.size(); ++i) css += (x[i] - double(float(mean_ref))) * (x[i] - double(float(mean_ref)));
  ops::norm_sum(Device::CPU, s, ops::Per::Channel, x.data(), out.data());
  const float mean = float(double(out[0]) / x.size());
  CHECK(mean == float(mean_ref));
  ops::norm_centered_sumsq(Device::CPU, s, ops::Per::Plane, x.data(), &mean, out.data());
  CHECK(out[0] == doctest::Approx(css).epsilon(1e-6));
}
