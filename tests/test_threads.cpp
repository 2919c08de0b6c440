// The one thread pool (mabdet/threads.h) and the host ops split over it (src/ops/parallel.h):
// every split op gives bitwise the same result at 1 and at 3 threads (a race, or a reduction split
// across threads, would not), and OpenBLAS follows the compute thread count.
#include <doctest/doctest.h>

#include <cblas.h>

#include <cstring>
#include <functional>
#include <vector>

#include "mabdet/ops.h"
#include "mabdet/rng.h"
#include "mabdet/threads.h"

using namespace mabdet;

namespace {
// Restores the thread count the suite runs at, whatever a check does.
struct ThreadsGuard {
  int saved = compute_threads();
  ~ThreadsGuard() { set_compute_threads(saved); }
};

Tensor random(const Shape& s, uint64_t seed) {
  Tensor t(s);
  Rng r(seed);
  for (size_t i = 0; i < t.size(); ++i) t[i] = float(r.uniform(-2, 2));
  return t;
}

// Runs `op` into a fresh copy of `init` at `threads` threads and returns it.
std::vector<float> run_at(int threads, const std::vector<float>& init, const std::function<void(float*)>& op) {
  set_compute_threads(threads);
  std::vector<float> out = init;
  op(out.data());
  return out;
}

void same_at_1_and_3(const char* what, size_t n, const std::function<void(float*)>& op, uint64_t seed = 9) {
  std::vector<float> init(n);
  Rng r(seed);
  for (float& v : init) v = float(r.uniform(-1, 1));
  const std::vector<float> one = run_at(1, init, op), three = run_at(3, init, op);
  INFO(what);
  CHECK(std::memcmp(one.data(), three.data(), n * sizeof(float)) == 0);
  CHECK(one != init);  // the op wrote something
}
}  // namespace

TEST_CASE("threads: -threads sets the one count that OpenMP loops and OpenBLAS both use") {
  ThreadsGuard g;
  set_compute_threads(3);
  CHECK(compute_threads() == 3);
  CHECK(openblas_get_num_threads() == 3);
  set_compute_threads(1);
  CHECK(compute_threads() == 1);
  CHECK(openblas_get_num_threads() == 1);
  CHECK(default_loader_threads() == 1);
  set_compute_threads(16);
  CHECK(default_loader_threads() == 4);
  CHECK(thread_summary(2).find("16 compute") != std::string::npos);
}

TEST_CASE("threads: split host ops are bitwise identical at 1 and 3 threads") {
  ThreadsGuard g;
  // Above kParallelMin, with odd sizes so that no split is even.
  const Shape s{3, 37, 29, 31};
  const size_t n = s.size();
  const Tensor x = random(s, 1), dy = random(s, 2), a = random(Shape{3, 37, 1, 1}, 3), b = random(Shape{3, 37, 1, 1}, 4);
  for (ops::Per per : {ops::Per::Channel, ops::Per::Plane}) {
    const size_t k = per == ops::Per::Channel ? size_t(s.c) : size_t(s.n) * s.c;
    same_at_1_and_3("norm_sum", k, [&](float* o) { ops::norm_sum(Device::CPU, s, per, x.data(), o); });
    same_at_1_and_3("norm_dot", k, [&](float* o) { ops::norm_dot(Device::CPU, s, per, dy.data(), x.data(), a.data(), o); });
    same_at_1_and_3("norm_centered_sumsq", k,
                    [&](float* o) { ops::norm_centered_sumsq(Device::CPU, s, per, x.data(), b.data(), o); });
    same_at_1_and_3("norm_affine", n,
                    [&](float* o) { ops::norm_affine(Device::CPU, s, per, x.data(), a.data(), b.data(), o); });
    for (bool accumulate : {true, false})
      same_at_1_and_3("norm_backward", n, [&](float* o) {
        ops::norm_backward(Device::CPU, s, per, dy.data(), a.data(), x.data(), b.data(), a.data(), o, accumulate);
      });
  }
  same_at_1_and_3("channel_affine", n,
                  [&](float* o) { ops::channel_affine(Device::CPU, s, x.data(), a.data(), b.data(), o); });
  same_at_1_and_3("channel_sum", size_t(s.c), [&](float* o) { ops::channel_sum(Device::CPU, s, x.data(), o, true); });
  same_at_1_and_3("channel_dot", size_t(s.c),
                  [&](float* o) { ops::channel_dot(Device::CPU, s, x.data(), dy.data(), o, false); });
  same_at_1_and_3("axpy", n, [&](float* o) { ops::axpy(Device::CPU, n, 0.5f, x.data(), o); });
  same_at_1_and_3("scale", n, [&](float* o) { ops::scale(Device::CPU, n, -3.f, o); });
  for (ops::Act act : {ops::Act::Relu, ops::Act::Leaky, ops::Act::Logistic}) {
    same_at_1_and_3(ops::act_name(act), n, [&](float* o) { ops::activate(Device::CPU, act, o, n); });
    same_at_1_and_3(ops::act_name(act), n, [&](float* o) { ops::activate_backward(Device::CPU, act, x.data(), o, o, n); });
    same_at_1_and_3(ops::act_name(act), n,
                    [&](float* o) { ops::activate_backward(Device::CPU, act, x.data(), dy.data(), o, n); });
  }
  same_at_1_and_3("center_rows", n, [&](float* o) { ops::center_rows(Device::CPU, 111, int(n / 111), x.data(), o); });
  {
    // The fused centred add is the centring then the add, bit for bit.
    std::vector<float> g(dy.data(), dy.data() + n), fused(x.data(), x.data() + n), twostep = fused;
    ops::center_rows_add(Device::CPU, 111, int(n / 111), g.data(), fused.data());
    std::vector<float> c(n);
    ops::center_rows(Device::CPU, 111, int(n / 111), dy.data(), c.data());
    ops::axpy(Device::CPU, n, 1.f, c.data(), twostep.data());
    CHECK(fused == twostep);
  }
  const ops::PoolGeom pg{3, 2, 1};
  const Shape ps{s.n, s.c, pg.out(s.h), pg.out(s.w)};
  std::vector<int32_t> idx(ps.size());
  same_at_1_and_3("maxpool", ps.size(), [&](float* o) { ops::maxpool(Device::CPU, s, pg, x.data(), o, idx.data()); });
  const Tensor pdy = random(ps, 5);
  same_at_1_and_3("maxpool_backward", n,
                  [&](float* o) { ops::maxpool_backward(Device::CPU, s, pg, pdy.data(), idx.data(), o); });
  same_at_1_and_3("plane_mean", size_t(s.n) * s.c, [&](float* o) { ops::plane_mean(Device::CPU, s, x.data(), o); });
  const Tensor pm = random(Shape{s.n, s.c, 1, 1}, 6);
  same_at_1_and_3("plane_mean_backward", n, [&](float* o) { ops::plane_mean_backward(Device::CPU, s, pm.data(), o); });
  same_at_1_and_3("upsample_nearest", n * 4, [&](float* o) { ops::upsample_nearest(Device::CPU, s, 2, x.data(), o); });
  const Tensor up = random(Shape{s.n, s.c, s.h * 2, s.w * 2}, 7);
  same_at_1_and_3("upsample_nearest_backward", n,
                  [&](float* o) { ops::upsample_nearest_backward(Device::CPU, s, 2, up.data(), o); });
}

TEST_CASE("threads: im2col and col2im split by channel match a serial loop at 3 threads") {
  ThreadsGuard g;
  // Overlapping windows (3x3, stride 1, dilation 2) so that col2im adds into each pixel from
  // several columns: the case a split that let two threads share a plane would race on.
  const ops::ConvGeom geom{19, 33, 35, 3, 3, 1, 1, 2, 2, 2, 2};
  const size_t cols = size_t(geom.out_h()) * geom.out_w(), K = size_t(geom.channels) * 9;
  const Tensor im = random(Shape{1, geom.channels, geom.height, geom.width}, 11);
  const Tensor col = random(Shape{1, 1, int(K), int(cols)}, 12);
  same_at_1_and_3("im2col", K * cols, [&](float* o) { ops::im2col(Device::CPU, geom, im.data(), o); });
  same_at_1_and_3("col2im", im.size(), [&](float* o) { ops::col2im(Device::CPU, geom, col.data(), o); });
  // And against the definition: pixel (c, y, x) receives col[(c, ky, kx), (oy, ox)] wherever
  // oy - pad + ky*dil == y and ox - pad + kx*dil == x.
  set_compute_threads(3);
  std::vector<float> got(im.size(), 0.f), want(im.size(), 0.f);
  ops::col2im(Device::CPU, geom, col.data(), got.data());
  const int oh = geom.out_h(), ow = geom.out_w();
  for (int c = 0; c < geom.channels; ++c)
    for (int ky = 0; ky < 3; ++ky)
      for (int kx = 0; kx < 3; ++kx)
        for (int oy = 0; oy < oh; ++oy)
          for (int ox = 0; ox < ow; ++ox) {
            const int y = oy - 2 + ky * 2, xx = ox - 2 + kx * 2;
            if (y < 0 || y >= geom.height || xx < 0 || xx >= geom.width) continue;
            want[(size_t(c) * geom.height + y) * geom.width + xx] +=
                col[((size_t(c) * 3 + ky) * 3 + kx) * cols + size_t(oy) * ow + ox];
          }
  CHECK(std::memcmp(got.data(), want.data(), got.size() * sizeof(float)) == 0);
}
