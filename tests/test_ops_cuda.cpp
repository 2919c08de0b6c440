// Every op on CUDA against the CPU reference (ggml's habit). Runs only where a GPU is present;
// elsewhere each case is registered as skipped, so doctest's summary counts it as skipped, not
// passed (the decision is made once, at registration, before main runs).
#include <doctest/doctest.h>

#include <cmath>

#include "gradcheck.h"
#include "mabdet/ops.h"

using namespace mabdet;

namespace {
// A CPU-only build, or a GPU build on a machine without a device.
doctest::skip no_gpu() { return doctest::skip(!cuda_available()); }

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

TEST_CASE("CUDA ops match the CPU reference" * no_gpu()) {
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
      Tensor dx(s), gdx(s, G);
      ops::activate_backward(C, a, x.data(), dy.data(), dx.data(), dy.size());
      ops::activate_backward(G, a, gx.data(), gdy.data(), gdx.data(), gdy.size());
      check_close(dx, gdx, 1e-6f, "activate_backward");
      ops::activate_backward(C, a, x.data(), dy.data(), dy.data(), dy.size());
      ops::activate_backward(G, a, gx.data(), gdy.data(), gdy.data(), gdy.size());
      check_close(dy, gdy, 1e-6f, "activate_backward in place");
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

namespace {
void check_same_idx(const IndexTensor& cpu, const IndexTensor& gpu, const char* what) {
  IndexTensor g = gpu.clone(Device::CPU);
  REQUIRE(g.shape() == cpu.shape());
  size_t bad = 0, first = cpu.size();
  for (size_t i = 0; i < cpu.size(); ++i)
    if (cpu[i] != g[i]) {
      if (!bad) first = i;
      ++bad;
    }
  INFO(what << ": " << bad << " indices differ, first at " << first);
  CHECK(bad == 0);
}
// Coarse values (multiples of 0.25 in [-1, 1]) so pooling windows hold ties.
Tensor coarse(Shape s, uint64_t seed) {
  Tensor t = random(s, seed);
  for (size_t i = 0; i < t.size(); ++i) t[i] = std::round(t[i] * 4.f) / 4.f;
  return t;
}
}  // namespace

TEST_CASE("CUDA layer and norm ops match the CPU reference" * no_gpu()) {
  const Device G = Device::CUDA, C = Device::CPU;
  SUBCASE("copy") {
    Tensor x = random({1, 1, 1, 1001}, 20), y(x.shape()), gx = x.clone(G), gy(x.shape(), G);
    ops::copy(C, x.size(), x.data(), y.data());
    ops::copy(G, gx.size(), gx.data(), gy.data());
    check_close(y, gy, 0.f, "copy");
  }
  SUBCASE("norm ops per channel and per plane") {
    // hw 63 (one warp per block, partly idle) and hw 323 (several warps; per channel N*hw = 646).
    for (Shape s : {Shape{3, 5, 7, 9}, Shape{2, 3, 17, 19}, Shape{1, 7, 1, 1}})
      for (ops::Per per : {ops::Per::Channel, ops::Per::Plane}) {
        CAPTURE(s.str());
        CAPTURE(int(per));
        const int ks = per == ops::Per::Channel ? s.c : s.n * s.c;
        Tensor x = random(s, 21), b = random(s, 22), dy = random(s, 23);
        Tensor gxx = x.clone(G), gb = b.clone(G), gdy = dy.clone(G);
        Tensor ctr = random({1, ks}, 24), sc = random({1, ks}, 25), sh = random({1, ks}, 26);
        Tensor gctr = ctr.clone(G), gsc = sc.clone(G), gsh = sh.clone(G);
        Tensor out(Shape{1, ks}), gout({1, ks}, G);
        ops::norm_sum(C, s, per, x.data(), out.data());
        ops::norm_sum(G, s, per, gxx.data(), gout.data());
        check_close(out, gout, 1e-5f, "norm_sum");
        for (bool centred : {true, false}) {
          ops::norm_dot(C, s, per, x.data(), b.data(), centred ? ctr.data() : nullptr, out.data());
          ops::norm_dot(G, s, per, gxx.data(), gb.data(), centred ? gctr.data() : nullptr, gout.data());
          check_close(out, gout, 1e-5f, "norm_dot");
          ops::norm_centered_sumsq(C, s, per, x.data(), centred ? ctr.data() : nullptr, out.data());
          ops::norm_centered_sumsq(G, s, per, gxx.data(), centred ? gctr.data() : nullptr, gout.data());
          check_close(out, gout, 1e-5f, "norm_centered_sumsq");
        }
        for (int mode = 0; mode < 4; ++mode) {  // scale and/or shift null
          const float* a = mode & 1 ? sc.data() : nullptr;
          const float* sft = mode & 2 ? sh.data() : nullptr;
          const float* ga = mode & 1 ? gsc.data() : nullptr;
          const float* gsft = mode & 2 ? gsh.data() : nullptr;
          Tensor y(s), gy(s, G);
          ops::norm_affine(C, s, per, x.data(), a, sft, y.data());
          ops::norm_affine(G, s, per, gxx.data(), ga, gsft, gy.data());
          check_close(y, gy, 1e-6f, "norm_affine");
          Tensor xi = x.clone(), gxi = gxx.clone();  // y aliasing x
          ops::norm_affine(C, s, per, xi.data(), a, sft, xi.data());
          ops::norm_affine(G, s, per, gxi.data(), ga, gsft, gxi.data());
          check_close(xi, gxi, 1e-6f, "norm_affine in place");
        }
        for (int mode = 0; mode < 4; ++mode) {  // b and/or c null (x null with b)
          const bool hb = mode & 1, hc = mode & 2;
          for (bool acc : {true, false}) {
            Tensor dx = random(s, 27), gdx = dx.clone(G);
            ops::norm_backward(C, s, per, dy.data(), sc.data(), hb ? x.data() : nullptr, hb ? sh.data() : nullptr,
                               hc ? ctr.data() : nullptr, dx.data(), acc);
            ops::norm_backward(G, s, per, gdy.data(), gsc.data(), hb ? gxx.data() : nullptr,
                               hb ? gsh.data() : nullptr, hc ? gctr.data() : nullptr, gdx.data(), acc);
            check_close(dx, gdx, 1e-6f, acc ? "norm_backward add" : "norm_backward overwrite");
          }
        }
      }
    // Empty batch: per-channel statistics are zeros on both devices.
    Shape e{0, 3, 4, 4};
    Tensor ex(e), gex(e, G), out = random({1, 3}, 28), gout = random({1, 3}, 29).clone(G);
    ops::norm_sum(C, e, ops::Per::Channel, ex.data(), out.data());
    ops::norm_sum(G, e, ops::Per::Channel, gex.data(), gout.data());
    check_close(out, gout, 0.f, "norm_sum of an empty batch");
  }
  SUBCASE("maxpool: overlapping windows, padding, gaps, ties") {
    const Shape in{2, 3, 9, 11};
    // {size, stride, pad}: overlap with padding, plain 2x2/2, stride 1, pad == size-1, stride > size.
    for (ops::PoolGeom g : {ops::PoolGeom{3, 2, 1}, ops::PoolGeom{2, 2, 0}, ops::PoolGeom{3, 1, 1},
                            ops::PoolGeom{3, 2, 2}, ops::PoolGeom{5, 3, 2}, ops::PoolGeom{2, 3, 0}})
      for (int ties = 0; ties < 2; ++ties) {
        CAPTURE(g.size);
        CAPTURE(g.stride);
        CAPTURE(g.pad);
        // Negative inputs throughout one case: the padding must still never win.
        Tensor x = ties ? coarse(in, 30) : random(in, 31);
        if (!ties)
          for (size_t i = 0; i < x.size(); ++i) x[i] = -2.f - std::fabs(x[i]);
        const Shape out{in.n, in.c, g.out(in.h), g.out(in.w)};
        Tensor y(out), gy(out, G), gx = x.clone(G);
        IndexTensor idx(out), gidx(out, G);
        ops::maxpool(C, in, g, x.data(), y.data(), idx.data());
        ops::maxpool(G, in, g, gx.data(), gy.data(), gidx.data());
        check_close(y, gy, 0.f, "maxpool");
        check_same_idx(idx, gidx, "maxpool argmax");
        Tensor dy = random(out, 32), dx = random(in, 33), gdy = dy.clone(G), gdx = dx.clone(G);
        ops::maxpool_backward(C, in, g, dy.data(), idx.data(), dx.data());
        ops::maxpool_backward(G, in, g, gdy.data(), gidx.data(), gdx.data());
        check_close(dx, gdx, 1e-6f, "maxpool_backward");
      }
  }
  SUBCASE("global average pool") {
    for (Shape in : {Shape{3, 5, 7, 9}, Shape{2, 3, 20, 21}, Shape{4, 6, 1, 1}}) {
      CAPTURE(in.str());
      Tensor x = random(in, 34), gx = x.clone(G), y(Shape{in.n, in.c}), gy({in.n, in.c}, G);
      ops::plane_mean(C, in, x.data(), y.data());
      ops::plane_mean(G, in, gx.data(), gy.data());
      check_close(y, gy, 1e-6f, "plane_mean");
      Tensor dy = random({in.n, in.c}, 35), dx = random(in, 36), gdy = dy.clone(G), gdx = dx.clone(G);
      ops::plane_mean_backward(C, in, dy.data(), dx.data());
      ops::plane_mean_backward(G, in, gdy.data(), gdx.data());
      check_close(dx, gdx, 1e-6f, "plane_mean_backward");
    }
  }
  SUBCASE("nearest upsampling") {
    const Shape in{2, 3, 5, 7};
    for (int stride : {1, 2, 3}) {
      CAPTURE(stride);
      const Shape out{in.n, in.c, in.h * stride, in.w * stride};
      Tensor x = random(in, 37), gx = x.clone(G), y(out), gy(out, G);
      ops::upsample_nearest(C, in, stride, x.data(), y.data());
      ops::upsample_nearest(G, in, stride, gx.data(), gy.data());
      check_close(y, gy, 0.f, "upsample_nearest");
      Tensor dy = random(out, 38), dx = random(in, 39), gdy = dy.clone(G), gdx = dx.clone(G);
      ops::upsample_nearest_backward(C, in, stride, dy.data(), dx.data());
      ops::upsample_nearest_backward(G, in, stride, gdy.data(), gdx.data());
      check_close(dx, gdx, 1e-6f, "upsample_nearest_backward");
    }
  }
  SUBCASE("row ops: centring, softmax cross-entropy") {
    for (int cols : {1, 5, 37, 300, 1000}) {
      CAPTURE(cols);
      const int rows = 7;
      const Shape s{1, 1, rows, cols};
      Tensor x = random(s, 40), gx = x.clone(G), y(s), gy(s, G);
      ops::center_rows(C, rows, cols, x.data(), y.data());
      ops::center_rows(G, rows, cols, gx.data(), gy.data());
      check_close(y, gy, 1e-6f, "center_rows");
      ops::center_rows(C, rows, cols, x.data(), x.data());
      ops::center_rows(G, rows, cols, gx.data(), gx.data());
      check_close(x, gx, 1e-6f, "center_rows in place");
      // Large logits: exp overflows without the max subtraction, and the label's probability underflows.
      Tensor z = random(s, 41);
      for (size_t i = 0; i < z.size(); ++i) z[i] *= 60.f;
      IndexTensor labels(Shape{1, 1, 1, rows});
      Rng rng(42);
      for (int r = 0; r < rows; ++r) labels[size_t(r)] = rng.randint(cols);
      Tensor gz = z.clone(G), p(s), gp(s, G), loss(Shape{1, rows}), gloss({1, rows}, G);
      IndexTensor glabels = labels.clone(G);
      ops::softmax_cross_entropy(C, rows, cols, z.data(), labels.data(), p.data(), loss.data());
      ops::softmax_cross_entropy(G, rows, cols, gz.data(), glabels.data(), gp.data(), gloss.data());
      check_close(p, gp, 1e-5f, "softmax");
      check_close(loss, gloss, 1e-5f, "cross-entropy");
      Tensor p2(s), gp2(s, G), untouched = random({1, rows}, 43), guntouched = untouched.clone(G);
      ops::softmax_cross_entropy(C, rows, cols, z.data(), nullptr, p2.data(), untouched.data());
      ops::softmax_cross_entropy(G, rows, cols, gz.data(), nullptr, gp2.data(), guntouched.data());
      check_close(p2, gp2, 1e-5f, "softmax without labels");
      check_close(untouched, guntouched, 0.f, "loss left alone without labels");
      Tensor dx = random(s, 44), gdx = dx.clone(G);
      ops::softmax_cross_entropy_backward(C, rows, cols, p.data(), labels.data(), 0.5f, dx.data());
      ops::softmax_cross_entropy_backward(G, rows, cols, gp.data(), glabels.data(), 0.5f, gdx.data());
      check_close(dx, gdx, 1e-5f, "softmax_cross_entropy_backward");
    }
  }
}
