// Every op on CUDA against the CPU reference (ggml's habit). Runs only where a GPU is present;
// elsewhere each case says it was skipped.
#include <doctest/doctest.h>

#include <cmath>

#include "gradcheck.h"
#include "mabdet/ops.h"

using namespace mabdet;

namespace {
bool have_gpu() {
  if (cuda_available()) return true;
  MESSAGE("no CUDA device in this build/machine: CUDA op comparison skipped");
  return false;
}

Tensor random(Shape s, uint64_t seed) {
  Tensor t(s);
  Rng rng(seed);
  test::fill_uniform(t, rng);
  return t;
}

void check_close(const Tensor& cpu, const Tensor& gpu, float tol, const char* what) {
  Tensor g = gpu.clone(Device::CPU);
  REQUIRE(g.shape() == cpu.shape());
  float worst = 0;
  for (size_t i = 0; i < cpu.size(); ++i) worst = std::max(worst, std::fabs(cpu[i] - g[i]) / std::max(1.f, std::fabs(cpu[i])));
  INFO(what << ": first values cpu " << cpu[0] << " gpu " << g[0] << ", max rel diff " << worst);
  CHECK(worst <= tol);
}
}  // namespace

TEST_CASE("CUDA ops match the CPU reference") {
  if (!have_gpu()) return;
  const Device G = Device::CUDA, C = Device::CPU;
  SUBCASE("gemm with transposes") {
    for (int ta = 0; ta < 2; ++ta)
      for (int tb = 0; tb < 2; ++tb) {
        const int M = 37, N = 53, K = 29;
        Tensor a = random({1, 1, M, K}, 1), b = random({1, 1, K, N}, 2), c = random({1, 1, M, N}, 3);
        Tensor ga = a.clone(G), gb = b.clone(G), gc = c.clone(G);
        int lda = ta ? M : K, ldb = tb ? K : N;
        ops::gemm(C, ta, tb, M, N, K, 0.5f, a.data(), lda, b.data(), ldb, 0.25f, c.data(), N);
        ops::gemm(G, ta, tb, M, N, K, 0.5f, ga.data(), lda, gb.data(), ldb, 0.25f, gc.data(), N);
        check_close(c, gc, 1e-4f, "gemm");
      }
  }
  SUBCASE("im2col and col2im with stride, padding, dilation") {
    ops::ConvGeom g{3, 9, 11, 3, 3, 2, 1, 1, 2, 2, 1};
    size_t rows = size_t(g.channels) * g.kh * g.kw, cols = size_t(g.out_h()) * g.out_w();
    Tensor im = random({1, 3, 9, 11}, 4), col(1, 1, int(rows), int(cols));
    Tensor gim = im.clone(G), gcol(col.shape(), G);
    ops::im2col(C, g, im.data(), col.data());
    ops::im2col(G, g, gim.data(), gcol.data());
    check_close(col, gcol, 1e-6f, "im2col");
    Tensor back = random(im.shape(), 5), gback = back.clone(G);
    ops::col2im(C, g, col.data(), back.data());
    ops::col2im(G, g, gcol.data(), gback.data());
    check_close(back, gback, 1e-5f, "col2im");
  }
  SUBCASE("activations, axpy, scale, per-channel ops") {
    Shape s{2, 3, 5, 7};
    for (ops::Act a : {ops::Act::Relu, ops::Act::Leaky, ops::Act::Logistic}) {
      Tensor x = random(s, 6), gx = x.clone(G);
      ops::activate(C, a, x.data(), x.size());
      ops::activate(G, a, gx.data(), gx.size());
      check_close(x, gx, 1e-6f, ops::act_name(a));
      Tensor dy = random(s, 7), gdy = dy.clone(G);
      ops::activate_backward(C, a, x.data(), dy.data(), dy.size());
      ops::activate_backward(G, a, gx.data(), gdy.data(), gdy.size());
      check_close(dy, gdy, 1e-6f, "activate_backward");
    }
    Tensor x = random(s, 8), y = random(s, 9), gx = x.clone(G), gy = y.clone(G);
    ops::axpy(C, x.size(), 0.3f, x.data(), y.data());
    ops::axpy(G, x.size(), 0.3f, gx.data(), gy.data());
    check_close(y, gy, 1e-6f, "axpy");
    ops::scale(C, y.size(), -2.f, y.data());
    ops::scale(G, y.size(), -2.f, gy.data());
    check_close(y, gy, 1e-6f, "scale");
    Tensor sc = random({1, 3}, 10), sh = random({1, 3}, 11), gsc = sc.clone(G), gsh = sh.clone(G);
    Tensor out(s), gout(s, G);
    ops::channel_affine(C, s, x.data(), sc.data(), sh.data(), out.data());
    ops::channel_affine(G, s, gx.data(), gsc.data(), gsh.data(), gout.data());
    check_close(out, gout, 1e-6f, "channel_affine");
    Tensor sum = random({1, 3}, 12), gsum = sum.clone(G);
    ops::channel_sum(C, s, x.data(), sum.data(), true);
    ops::channel_sum(G, s, gx.data(), gsum.data(), true);
    check_close(sum, gsum, 1e-5f, "channel_sum");
    ops::channel_dot(C, s, x.data(), y.data(), sum.data(), false);
    ops::channel_dot(G, s, gx.data(), gy.data(), gsum.data(), false);
    check_close(sum, gsum, 1e-5f, "channel_dot");
  }
}
