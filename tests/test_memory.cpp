// What passes keep in memory, counted by the host tensor byte counter (mabdet/tensor.h): a
// conv+norm+activation keeps its norm input alone between forward and backward and nothing at
// inference; a network's backward holds the gradients in flight, not one per output; forward-only
// memory cuts an inference's peak without changing a bit of its results, detector included.
#include <doctest/doctest.h>

#include <fstream>
#include <regex>
#include <sstream>

#include "batch_util.h"
#include "layer_util.h"
#include "test_util.h"
#include "mabdet/detector.h"
#include "mabdet/network.h"

using namespace mabdet;
using mabdet::layer_test::build_layer;
using mabdet::layer_test::random_tensor;

namespace {
size_t live() { return host_tensor_bytes().live; }

// Bytes the pass `f` allocates above what was live when it started.
template <class F>
size_t peak_of(F f) {
  reset_host_tensor_peak();
  const size_t before = live();
  f();
  return host_tensor_bytes().peak - before;
}

std::string repo_root() {
  const std::string here = __FILE__;
  return here.substr(0, here.find_last_of('/')) + "/..";
}
}  // namespace

TEST_CASE("memory: a conv+norm+activation keeps one output-sized buffer for backward, none at inference") {
  const Shape in{2, 8, 24, 24}, outs{2, 16, 24, 24};
  const size_t out_bytes = outs.size() * sizeof(float), slack = 16 * 1024;  // slack: per-channel vectors
  for (const char* norm : {"bn", "mabn", "gn\ngn_groups=4", "frozen_bn", "none"}) {
    for (const char* act : {"relu", "linear"}) {
      CAPTURE(norm);
      CAPTURE(act);
      // 1x1 on the reference path: the input is its own column matrix, so no workspace muddies the count.
      const std::string cfg = cat("[convolutional]\nfilters=16\nsize=1\nactivation=", act, "\nnorm=", norm, "\n");
      Tensor x = random_tensor(in, 1), out(outs), dout = random_tensor(outs, 2), dx(in);
      Context ctx;
      ctx.conv = ConvPath::Reference;
      const size_t at_build = live();
      auto layer = build_layer(cfg, {in});
      const size_t params = live() - at_build;
      ctx.train = true;
      for (int it = 0; it < 2; ++it) {  // the second pass finds every buffer sized
        layer->run_forward(ctx, {&x}, out);
        dx.zero();
        layer->run_backward(ctx, {&x}, out, dout, {&dx});
      }
      // Kept: the norm input (pre); the context's gradient scratch holds dL/dpre during backward.
      const size_t held = live() - at_build - params;
      CHECK(held >= 2 * out_bytes);
      CHECK(held <= 2 * out_bytes + slack);
      // A fresh layer in a forward-only inference writes `out` and normalizes it in place:
      // nothing output-sized.
      auto fresh = build_layer(cfg, {in});
      Context inf;
      inf.forward_only = true;
      inf.conv = ConvPath::Reference;
      CHECK(peak_of([&] { fresh->run_forward(inf, {&x}, out); }) <= slack);
    }
  }
}

TEST_CASE("memory: gn's forward-only inference in place equals its training forward bit for bit") {
  // gn normalizes the same way in both modes, so the in-place forward-only path and the kept-pre
  // training path must agree exactly: working in place changes no arithmetic.
  const Shape in{2, 8, 10, 10};
  const std::string cfg = "[convolutional]\nfilters=16\nsize=3\npad=1\nactivation=leaky\nnorm=gn\ngn_groups=4\n";
  auto layer = build_layer(cfg, {in});
  Tensor x = random_tensor(in, 3), a, b;
  Context train, inf;
  train.train = true;
  inf.forward_only = true;
  layer->run_forward(train, {&x}, a);
  layer->run_forward(inf, {&x}, b);
  REQUIRE(a.shape() == b.shape());
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i] != b[i]) FAIL_CHECK("out[" << i << "] training " << a[i] << ", inference " << b[i]);
}

namespace {
// Same-shaped 1x1 convs in two residual blocks and a softmax loss over each image's 4096 values:
// what a backbone's passes look like, every output as large as the input.
const char* kChain = R"([net]
batch=2
width=16
height=16
channels=16
norm=bn
[convolutional]
filters=16
size=1
activation=relu
[convolutional]
filters=16
size=1
activation=relu
[convolutional]
filters=16
size=1
activation=relu
[convolutional]
filters=16
size=1
activation=linear
[shortcut]
from=-4
activation=relu
[convolutional]
filters=16
size=1
activation=relu
[convolutional]
filters=16
size=1
activation=linear
[shortcut]
from=-3
activation=relu
[convolutional]
filters=16
size=1
activation=relu
[convolutional]
filters=16
size=1
activation=relu
[softmax]
)";

struct ChainRun {
  Tensor x = random_tensor({2, 16, 16, 16}, 4);
  IndexTensor labels{2, 1};
  Context ctx;
  ChainRun() {
    labels[0] = 17;
    labels[1] = 4000;
    ctx.labels = &labels;
    ctx.conv = ConvPath::Reference;
  }
  size_t out_bytes() const { return x.size() * sizeof(float); }
};

Network chain() { return Network(parse_cfg_text(kChain, "chain.cfg")); }
}  // namespace

TEST_CASE("memory: backward holds the gradients in flight, not one per output") {
  ChainRun r;
  r.ctx.train = true;
  Network net = chain();
  net.forward(r.ctx, r.x);
  // 11 outputs; a residual add keeps two gradients alive while a third is written, and the
  // scratch holds the current dL/dpre: 4 where one gradient per output (and a dL/dpre per conv)
  // would be 19.
  CHECK(peak_of([&] { net.backward(r.ctx); }) <= 4 * r.out_bytes() + 16 * 1024);
  net.forward(r.ctx, r.x);
  CHECK(peak_of([&] { net.backward(r.ctx); }) == 0);  // the second backward reuses what the first pooled
}

TEST_CASE("memory: lean training frees the outputs no backward reads, with the same gradients") {
  ChainRun r;
  r.ctx.train = true;
  const size_t base_all = live();
  Network all = chain();
  all.forward(r.ctx, r.x);
  const size_t held_all = live() - base_all;
  const size_t base_lean = live();
  Network lean = chain();
  lean.set_lean_memory(true);
  lean.forward(r.ctx, r.x);
  // The two linear convs' outputs: read by a residual add, whose backward reads no inputs, and
  // by no backward of their own (no activation). Every other output some backward reads.
  CHECK(live() - base_lean + 2 * r.out_bytes() == held_all);
  CHECK(lean.output(2).shape() == Shape{2, 16, 16, 16});
  const size_t back_all = peak_of([&] { all.backward(r.ctx); });
  const size_t back_lean = peak_of([&] { lean.backward(r.ctx); });
  MESSAGE("backward's own allocations: keeping all ", back_all, " bytes, lean ", back_lean);
  // Lean backward's gradients take the storage of the outputs whose backward is done, so it
  // allocates only the two that are in flight before any is: the last layer's and its input's.
  CHECK(back_lean <= 2 * r.out_bytes());
  CHECK(back_lean < back_all);
  const std::vector<Param> pa = all.params(), pb = lean.params();
  REQUIRE(pa.size() == pb.size());
  for (size_t k = 0; k < pa.size(); ++k)
    for (size_t i = 0; i < pa[k].grad->size(); ++i)
      if ((*pa[k].grad)[i] != (*pb[k].grad)[i]) FAIL_CHECK(pa[k].name << "[" << i << "] differs");
  CHECK(test::error_of([&] { lean.output(3); }).find("went back to the pool") != std::string::npos);
  // Backward freed each output once its own backward was done: what a second one would read.
  CHECK(test::error_of([&] { lean.output(2); }).find("went back to the pool") != std::string::npos);
  CHECK(test::error_of([&] { lean.backward(r.ctx); }).find("second lean-memory backward") != std::string::npos);
  lean.forward(r.ctx, r.x);
  CHECK(peak_of([&] { lean.backward(r.ctx); }) == 0);
}

TEST_CASE("memory: forward-only inference has a lower peak and the same outputs, bit for bit") {
  ChainRun r;
  const size_t base_all = live();
  Network all = chain();
  all.forward(r.ctx, r.x);
  const size_t held_all = live() - base_all;  // weights and every output (sized at build)
  const size_t base_lean = live();
  Network lean = chain();  // the same seed: the same weights
  lean.set_lean_memory(true);  // frees what the build sized
  reset_host_tensor_peak();
  lean.forward(r.ctx, r.x);
  const size_t peak_lean = host_tensor_bytes().peak - base_lean;
  // At most three outputs at once (the residual, a conv's input and its output) against eleven.
  CHECK(peak_lean + 7 * r.out_bytes() <= held_all);
  const Tensor& a = all.output();
  const Tensor& b = lean.output();
  REQUIRE(a.shape() == b.shape());
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i] != b[i]) FAIL_CHECK("out[" << i << "] " << b[i] << " forward-only, " << a[i] << " keeping all");
  CHECK(peak_of([&] { lean.forward(r.ctx, r.x); }) == 0);  // the pool serves the second forward
  CHECK(test::error_of([&] { lean.output(1); }).find("went back to the pool") != std::string::npos);
  CHECK(test::error_of([&] { lean.backward(r.ctx); }).find("forward-only") != std::string::npos);
  // A training step afterwards holds every output again and trains as the other network does.
  r.ctx.train = true;
  for (Network* n : {&all, &lean}) {
    n->forward(r.ctx, r.x);
    CHECK(n->output(1).shape() == Shape{2, 16, 16, 16});
    n->backward(r.ctx);
  }
  const std::vector<Param> pa = all.params(), pb = lean.params();
  REQUIRE(pa.size() == pb.size());
  double norm = 0;
  for (size_t k = 0; k < pa.size(); ++k)
    for (size_t i = 0; i < pa[k].grad->size(); ++i) {
      norm += std::abs((*pa[k].grad)[i]);
      if ((*pa[k].grad)[i] != (*pb[k].grad)[i]) FAIL_CHECK(pa[k].name << "[" << i << "] differs");
    }
  CHECK(norm > 0);
}

namespace {
Detector small_detector() {
  std::ifstream in(repo_root() + "/cfg/mask_rcnn_small_mabn2.cfg");
  std::stringstream text;
  text << in.rdbuf();
  // Every box scored, so that an untrained detector still returns detections to compare.
  const std::string cfg = std::regex_replace(text.str(), std::regex("\\[box_predictor\\]\n"), "[box_predictor]\nscore_thresh=0\n");
  const std::string tmp = "/tmp/mabdet_memory_test.cfg";
  std::ofstream(tmp) << cfg;
  return Detector::from_file(tmp);
}

Batch image_batch(int n) {
  Batch b;
  b.images = random_tensor({n, 3, 160, 160}, 6, -2.f, 2.f);
  test::two_box_targets(b, n, 160);
  return b;
}

void check_same(const std::vector<std::vector<Detection>>& a, const std::vector<std::vector<Detection>>& b) {
  REQUIRE(a.size() == b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    REQUIRE(a[i].size() == b[i].size());
    for (size_t d = 0; d < a[i].size(); ++d) {
      const Detection &x = a[i][d], &y = b[i][d];
      for (int k = 0; k < 4; ++k) CHECK(x.box[k] == y.box[k]);
      CHECK(x.score == y.score);
      CHECK(x.label == y.label);
      REQUIRE(x.has_mask == y.has_mask);
      CHECK(x.mask.counts == y.mask.counts);
    }
  }
}
}  // namespace

TEST_CASE("memory: a detector's forward-only inference returns the same detections at a lower peak") {
  Detector lean = small_detector(), all = small_detector();  // lean: forward-only, as from_file sets it
  all.net().set_lean_memory(false);
  const Batch one = image_batch(1);
  std::vector<std::vector<Detection>> da, db;
  Context ca, cb;
  const size_t peak_lean = peak_of([&] { lean.detect(ca, one, da); });
  const size_t peak_all = peak_of([&] { all.detect(cb, one, db); });
  CHECK(peak_lean < peak_all);
  REQUIRE(!da[0].empty());
  CHECK(da[0][0].has_mask);
  check_same(da, db);
  // A training step between inferences (the pool's outputs back into the graph, then pooled again).
  const Batch two = image_batch(2);
  for (auto [det, ctx] : {std::pair{&lean, &ca}, std::pair{&all, &cb}}) {
    ctx->train = true;
    ctx->batch = &two;
    det->net().forward(*ctx, two.images);
    det->net().backward(*ctx);
    ctx->train = false;
  }
  lean.detect(ca, one, da);
  all.detect(cb, one, db);
  check_same(da, db);
}

TEST_CASE("memory: inference drops the parameter gradients, and a later backward brings them back zeroed") {
  ChainRun r;
  Network kept = chain(), dropped = chain();
  size_t grad_bytes = 0;
  for (const Param& p : dropped.params()) grad_bytes += p.grad->size() * sizeof(float);
  REQUIRE(grad_bytes > 0);
  const size_t before = live();
  dropped.drop_param_grads();
  CHECK(before - live() == grad_bytes);
  dropped.zero_grads();  // no storage to zero: must not touch it
  for (Network* n : {&kept, &dropped}) n->forward(r.ctx, r.x);
  r.ctx.train = true;
  for (Network* n : {&kept, &dropped}) {
    n->forward(r.ctx, r.x);
    n->backward(r.ctx);
  }
  const std::vector<Param> pa = kept.params(), pb = dropped.params();
  REQUIRE(pa.size() == pb.size());
  for (size_t k = 0; k < pa.size(); ++k) {
    REQUIRE(pb[k].grad->capacity() >= pb[k].grad->size());
    for (size_t i = 0; i < pa[k].grad->size(); ++i)
      if ((*pa[k].grad)[i] != (*pb[k].grad)[i]) FAIL_CHECK(pa[k].name << "[" << i << "] differs");
  }
}
