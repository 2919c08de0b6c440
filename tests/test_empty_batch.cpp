// A batch of zero rows (shape 0xCxHxW) is legal everywhere: a detector's box or mask head may get no
// RoIs. Every norm and every layer type must return an empty output, add zero gradients, leave its
// state (running statistics, MABN's buffers and counter) untouched, report a zero loss, and leave no
// trace: N=2, N=0, N=2 gives what N=2, N=2 gives. The inputs of an empty batch are never allocated
// (null data), which the ASan/UBSan build (make DEBUG=1) checks for out-of-bounds and null misuse.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>

#include "layer_util.h"
#include "mabdet/norm.h"
#include "mabdet/ops.h"
#include "norm_harness.h"
#include "test_util.h"

using namespace mabdet;
using namespace mabdet::test;
using namespace mabdet::layer_test;

namespace {
Shape with_n(Shape s, int n) {
  s.n = n;
  return s;
}

// Copies of every state tensor and counter, and of every param grad, to compare against later.
struct Snapshot {
  std::vector<Tensor> state, grads;
  std::vector<int64_t> counters;
  Snapshot(const std::vector<State>& st, const std::vector<Param>& ps) {
    for (const State& s : st) {
      if (s.tensor) state.push_back(s.tensor->clone());
      else counters.push_back(*s.counter);
    }
    for (const Param& p : ps) grads.push_back(p.grad->clone());
  }
};

// Element-wise equality (so a -0 that adding zero turned into +0 still counts as unchanged).
bool same(const Tensor& a, const Tensor& b) {
  if (a.shape() != b.shape()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (!(a[i] == b[i])) return false;
  return true;
}

void check_same(const Snapshot& got, const Snapshot& want, const std::vector<State>& st, const std::vector<Param>& ps) {
  REQUIRE(got.state.size() == want.state.size());
  REQUIRE(got.counters.size() == want.counters.size());
  REQUIRE(got.grads.size() == want.grads.size());
  size_t ti = 0, ci = 0;
  for (const State& s : st) {
    CAPTURE(s.name);
    if (s.tensor) {
      CHECK(same(got.state[ti], want.state[ti]));
      ++ti;
    } else {
      CHECK(got.counters[ci] == want.counters[ci]);
      ++ci;
    }
  }
  for (size_t i = 0; i < ps.size(); ++i) {
    CAPTURE(ps[i].name);
    CHECK(same(got.grads[i], want.grads[i]));
  }
}

// ---- norms ----

// Non-default keys so every norm's state moves on a non-empty batch: brn's clips are open
// (iteration 10 is past its ramp), mabn's SMA is live from t = 3 (buffer 2, no warm-up).
const char* kNormNet = "[net]\ngn_groups=2\nmabn_buffer=2\nmabn_warmup=0\nbrn_ramp_start=0\nbrn_ramp_end=1\n[convolutional]\nnorm=";
constexpr int kC = 4;

std::unique_ptr<Norm> build_norm(const std::string& name) {
  std::unique_ptr<Norm> n = norm_from_cfg(kNormNet + name + "\n", kC);
  Rng rng(11);
  for (Param& p : n->params()) {
    fill_uniform(*p.value, rng, 0.5f, 1.5f);
    p.grad->zero();
  }
  return n;
}

struct NormPass {
  Tensor y, dx;
};

// One forward and backward of `norm` at batch n (inputs and dy drawn from seed).
NormPass norm_pass(Norm& norm, bool train, int n, uint64_t seed) {
  const Shape s{n, kC, 3, 2};
  Context ctx;
  ctx.train = train;
  ctx.iteration = 10;
  Tensor x = random_tensor(s, seed, -2.f, 2.f), dy = random_tensor(s, seed + 1);
  NormPass p{Tensor(s), Tensor(s)};
  p.dx.zero();
  norm.reshape(s);
  norm.forward(ctx, x, p.y);
  norm.backward(ctx, x, dy, p.dx, true);
  return p;
}
}  // namespace

TEST_CASE("empty batch: every norm, training and inference, adds zero and keeps its state") {
  for (const std::string& name : norm_names())
    for (bool train : {true, false}) {
      CAPTURE(name);
      CAPTURE(train);
      std::unique_ptr<Norm> norm = build_norm(name);
      // Two real training batches first, so state and param grads are not at their initial values.
      norm_pass(*norm, true, 2, 1);
      norm_pass(*norm, true, 2, 3);
      const Snapshot before(norm->state(), norm->params());
      const NormPass p = norm_pass(*norm, train, 0, 5);
      CHECK(p.y.shape() == Shape{0, kC, 3, 2});
      CHECK(p.dx.shape() == Shape{0, kC, 3, 2});
      check_same(Snapshot(norm->state(), norm->params()), before, norm->state(), norm->params());
    }
}

TEST_CASE("empty batch: a norm given N=2, N=0, N=2 ends as one given N=2, N=2") {
  for (const std::string& name : norm_names())
    for (bool train : {true, false}) {
      CAPTURE(name);
      CAPTURE(train);
      std::unique_ptr<Norm> a = build_norm(name), b = build_norm(name);
      // Four real batches: mabn (buffer 2) normalizes the last two by its moving averages, and an
      // empty batch that advanced t or wrote a buffer row would change them.
      NormPass pa, pb;
      for (uint64_t seed : {1, 3, 5, 7}) {
        pa = norm_pass(*a, train, 2, seed);
        norm_pass(*a, train, 0, seed + 100);
        norm_pass(*a, !train, 0, seed + 200);
        pb = norm_pass(*b, train, 2, seed);
      }
      CHECK(same(pa.y, pb.y));
      CHECK(same(pa.dx, pb.dx));
      check_same(Snapshot(a->state(), a->params()), Snapshot(b->state(), b->params()), a->state(), a->params());
    }
}

TEST_CASE("empty batch: mabn counts only real batches, bn keeps fresh statistics, 1 value per channel fails") {
  std::unique_ptr<Norm> mabn = build_norm("mabn");
  norm_pass(*mabn, true, 2, 1);
  norm_pass(*mabn, true, 0, 2);
  for (const State& s : mabn->state())
    if (s.counter) CHECK(*s.counter == 1);  // only the real batch counted
  std::unique_ptr<Norm> bn = build_norm("bn");
  const Snapshot fresh(bn->state(), bn->params());
  norm_pass(*bn, true, 0, 2);
  check_same(Snapshot(bn->state(), bn->params()), fresh, bn->state(), bn->params());
  // The guard is for empty input only: one value per channel is still no batch statistic.
  std::unique_ptr<Norm> one = build_norm("bn");
  CHECK(error_of([&] {
          Context ctx;
          ctx.train = true;
          Tensor x = random_tensor({1, kC, 1, 1}, 1), y(x.shape());
          one->forward(ctx, x, y);
        }) == "norm=bn: training needs more than one value per channel, got input 1x4x1x1");
}

// ---- layers ----
namespace {
struct LayerCase {
  std::string cfg;
  std::vector<Shape> in;  // at N=2
};

std::vector<LayerCase> layer_cases() {
  const Shape img{2, 4, 6, 6};
  std::vector<LayerCase> cs;
  const std::string net = "[net]\ngn_groups=2\nmabn_buffer=2\nmabn_warmup=0\nbrn_ramp_start=0\nbrn_ramp_end=1\n";
  for (const std::string& norm : norm_names()) {
    cs.push_back({net + "[convolutional]\nfilters=4\nsize=3\npad=1\nactivation=leaky\nnorm=" + norm + "\n", {img}});
    cs.push_back({net + "[normalization]\nactivation=relu\nnorm=" + norm + "\n", {img}});
    cs.push_back({net + "[normalization]\nnorm=" + norm + "\n", {img}});
  }
  cs.push_back({net + "[convolutional]\nfilters=4\nsize=1\ngroups=2\nnorm=mabn\n", {img}});  // 1x1: input as columns
  cs.push_back({net + "[convolutional]\nfilters=6\nsize=3\nstride=2\npad=1\ngroups=2\nnorm=bn\n", {img}});
  cs.push_back({net + "[deconvolutional]\nfilters=2\nsize=2\nstride=2\nnorm=mabn\nactivation=relu\n", {img}});
  cs.push_back({net + "[deconvolutional]\nfilters=2\nsize=3\nstride=2\npad=1\n", {img}});
  cs.push_back({net + "[connected]\noutput=5\nnorm=bn\nactivation=relu\n", {img}});
  cs.push_back({net + "[connected]\noutput=5\n", {img}});
  cs.push_back({"[maxpool]\nsize=3\nstride=2\n", {img}});
  cs.push_back({"[avgpool]\n", {img}});
  cs.push_back({"[shortcut]\nactivation=leaky\n", {img, img}});
  cs.push_back({"[shortcut]\n", {img, img}});
  cs.push_back({"[route]\n", {img, Shape{2, 3, 6, 6}}});
  cs.push_back({"[upsample]\nstride=2\n", {img}});
  cs.push_back({"[softmax]\n", {Shape{2, 5, 1, 1}}});
  return cs;
}

struct LayerPass {
  Tensor out;
  std::vector<Tensor> din;
  double loss;
};

// reshape, forward and backward of `l` at batch n (inputs, dout and labels drawn from seed).
LayerPass layer_pass(Layer& l, const std::vector<Shape>& in2, bool train, int n, uint64_t seed) {
  std::vector<Shape> shapes;
  for (const Shape& s : in2) shapes.push_back(with_n(s, n));
  const Shape o = l.reshape(shapes);
  std::vector<Tensor> xs;
  Inputs in;
  LayerPass p{Tensor(o), {}, 0};
  for (size_t i = 0; i < shapes.size(); ++i) {
    xs.push_back(random_tensor(shapes[i], seed + i, -2.f, 2.f));
    p.din.emplace_back(shapes[i]);
    p.din.back().zero();
  }
  InputGrads din;
  for (size_t i = 0; i < shapes.size(); ++i) {
    in.push_back(&xs[i]);
    din.push_back(&p.din[i]);
  }
  IndexTensor labels(Shape{n, 1, 1, 1});  // for softmax: one class per image, 0 rows at N=0
  for (int r = 0; r < n; ++r) labels[r] = int32_t((r + seed) % o.c);
  Context ctx;
  ctx.train = train;
  ctx.iteration = 10;
  ctx.labels = &labels;
  ctx.loss_scale = 0.5f;
  l.forward(ctx, in, p.out);
  p.loss = l.loss();
  const Tensor dout = random_tensor(o, seed + 50);
  l.backward(ctx, in, p.out, dout, din);
  return p;
}
}  // namespace

TEST_CASE("empty batch: every layer type gives an empty output, zero loss, and keeps params and state") {
  for (const LayerCase& lc : layer_cases())
    for (bool train : {true, false}) {
      CAPTURE(lc.cfg);
      CAPTURE(train);
      std::unique_ptr<Layer> l = build_layer(lc.cfg, lc.in);
      const LayerPass real = layer_pass(*l, lc.in, true, 2, 1);
      const Snapshot before(l->state(), l->params());
      const LayerPass p = layer_pass(*l, lc.in, train, 0, 5);
      CHECK(p.out.shape() == with_n(real.out.shape(), 0));
      for (size_t i = 0; i < p.din.size(); ++i) CHECK(p.din[i].shape() == with_n(lc.in[i], 0));
      CHECK(std::isfinite(p.loss));
      CHECK(p.loss == 0.0);
      check_same(Snapshot(l->state(), l->params()), before, l->state(), l->params());
    }
}

TEST_CASE("empty batch: a layer given N=2, N=0, N=2 ends as one given N=2, N=2") {
  for (const LayerCase& lc : layer_cases())
    for (bool train : {true, false}) {
      CAPTURE(lc.cfg);
      CAPTURE(train);
      std::unique_ptr<Layer> a = build_layer(lc.cfg, lc.in), b = build_layer(lc.cfg, lc.in);
      LayerPass pa, pb;
      for (uint64_t seed : {1, 3, 5, 7}) {
        pa = layer_pass(*a, lc.in, train, 2, seed);
        layer_pass(*a, lc.in, train, 0, seed + 100);
        pb = layer_pass(*b, lc.in, train, 2, seed);
      }
      CHECK(same(pa.out, pb.out));
      for (size_t i = 0; i < pa.din.size(); ++i) CHECK(same(pa.din[i], pb.din[i]));
      CHECK(pa.loss == pb.loss);
      check_same(Snapshot(a->state(), a->params()), Snapshot(b->state(), b->params()), a->state(), a->params());
    }
}

// ---- gemm with a zero dimension ----
namespace {
// C (2 x 3, ldc 4: a padded row) after gemm with K = 0 and the given beta, from C = 1..8 or NaN.
Tensor gemm_k0(Device d, float beta, bool nan_start) {
  Tensor c(1, 1, 2, 4);
  for (size_t i = 0; i < c.size(); ++i) c[i] = nan_start ? NAN : float(i + 1);
  Tensor dc = c.clone(d);
  // lda = ldb = K = 0, as a caller passing the batch as K does; no A or B values exist.
  ops::gemm(d, false, false, 2, 3, 0, 1.f, nullptr, 0, nullptr, 3, beta, dc.data(), 4);
  return dc.clone(Device::CPU);
}
}  // namespace

TEST_CASE("empty batch: gemm with M, N or K = 0 never calls BLAS with an invalid leading dimension") {
  std::vector<Device> devices{Device::CPU};
  if (cuda_available()) devices.push_back(Device::CUDA);
  for (Device d : devices) {
    CAPTURE(int(d));
    const Tensor one = gemm_k0(d, 1.f, false), half = gemm_k0(d, 0.5f, false), zero = gemm_k0(d, 0.f, true);
    for (int r = 0; r < 2; ++r)
      for (int c = 0; c < 4; ++c) {
        const size_t i = size_t(r) * 4 + c;
        CHECK(one[i] == float(i + 1));
        CHECK(half[i] == (c < 3 ? 0.5f * float(i + 1) : float(i + 1)));  // the padding column is no part of C
        if (c < 3) CHECK(zero[i] == 0.f);  // beta = 0 overwrites, NaN included, as BLAS does
        else CHECK(std::isnan(zero[i]));
      }
    // M = 0 or N = 0: nothing to write, whatever the (then meaningless) leading dimensions.
    Tensor c(1, 1, 1, 2);
    c.fill(7.f);
    Tensor dc = c.clone(d);
    ops::gemm(d, false, false, 0, 2, 3, 1.f, nullptr, 0, nullptr, 0, 0.f, dc.data(), 0);
    ops::gemm(d, true, true, 2, 0, 3, 1.f, nullptr, 0, nullptr, 0, 0.f, dc.data(), 0);
    CHECK(same(dc.clone(Device::CPU), c));
  }
  // A real product with a leading dimension below its row length is a bug, named before BLAS sees it.
  Tensor a(1, 1, 2, 3), b(1, 1, 3, 2), c(1, 1, 2, 2);
  a.fill(1.f);
  b.fill(1.f);
  CHECK(error_of([&] { ops::gemm(Device::CPU, false, false, 2, 2, 3, 1.f, a.data(), 2, b.data(), 2, 0.f, c.data(), 2); })
            .find("gemm: lda 2 ldb 2 ldc 2 for M 2 N 2 K 3") != std::string::npos);
}
