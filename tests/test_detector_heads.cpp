// The detector's sections one by one: gradient checks of every head loss (RPN, box predictor,
// mask predictor) and of the multi-level pooler, hand-made cases for the RoI sampler, and the
// empty cases (no ground truth, no positives, no RoIs) that must stay finite.
#include <doctest/doctest.h>

#include <cmath>

#include "layer_util.h"
#include "mabdet/data/batch.h"
#include "mabdet/detect/level_mapper.h"
#include "mabdet/detect/roi_align.h"

using namespace mabdet;
using namespace mabdet::layer_test;

namespace {

// One image of `size` x `size` pixels (no resize) with these boxes, labels and square polygons.
Targets targets(const std::vector<std::array<float, 4>>& boxes, const std::vector<int>& labels) {
  Targets t;
  for (size_t i = 0; i < boxes.size(); ++i) {
    const auto& b = boxes[i];
    t.boxes.insert(t.boxes.end(), b.begin(), b.end());
    t.labels.push_back(labels[i]);
    t.ann_ids.push_back(int64_t(i) + 1);
    GtMask m;
    m.kind = GtMask::Kind::Polygons;
    // A diamond inside the box, so the mask targets are neither all 0 nor all 1.
    const double cx = (b[0] + b[2]) / 2, cy = (b[1] + b[3]) / 2;
    m.polygons = {{cx, double(b[1]), double(b[2]), cy, cx, double(b[3]), double(b[0]), cy}};
    t.masks.push_back(m);
  }
  return t;
}

Batch batch_of(std::vector<Targets> ts, int size) {
  Batch b;
  b.images.reshape(int(ts.size()), 3, size, size);
  b.images.zero();
  for (size_t i = 0; i < ts.size(); ++i) {
    ImageMeta m;
    m.image_id = int64_t(i) + 1;
    m.plan = ResizePlan{size, size, size, size, 1.f, 1.f, false};
    b.meta.push_back(m);
    b.targets.push_back(std::move(ts[i]));
  }
  return b;
}

// A loss layer's gradient check: L = r * loss, with the context's rng reseeded before every
// forward so that the sampled anchors/RoIs are the same each time. Probes: the Float inputs that
// take a gradient, then the params.
struct LossCheck {
  Layer& layer;
  Context ctx;
  std::vector<Tensor> in, din;
  std::vector<bool> differentiable;
  std::vector<IndexTensor> index;
  Outputs outs;
  std::vector<Tensor> fout;
  std::vector<IndexTensor> iout;
  Tensor loss{1, 1}, dloss;
  GradCheck g;

  LossCheck(Layer& l, const Batch& b, std::vector<Tensor> xs, std::vector<bool> diff, std::vector<IndexTensor> idx)
      : layer(l), in(std::move(xs)), differentiable(std::move(diff)), index(std::move(idx)) {
    ctx.train = true;
    ctx.batch = &b;
    size_t nf = 0, ni = 0;
    for (const Port& p : l.ports()) (p.kind == Kind::Float ? nf : ni)++;
    fout.resize(nf);
    iout.resize(ni);
    for (Tensor& t : fout) outs.f.push_back(&t);
    for (IndexTensor& t : iout) outs.index.push_back(&t);
    din.resize(in.size());
    for (size_t k = 0; k < in.size(); ++k) {
      din[k].reshape(in[k].shape());
      din[k].zero();
      if (differentiable[k]) g.probes.push_back({cat("in", k), &in[k], &din[k]});
    }
    for (Param& p : l.params()) g.probes.push_back({p.name, p.value, p.grad});
    g.state = l.state();
    g.out = &loss;
    g.dout = &dloss;
    g.forward = [this] { run(1.f); };
    g.backward = [this] {
      run(dloss[0]);  // the same forward with the loss scaled by r, so backward yields r * dloss
      InputGrads dins;
      for (size_t k = 0; k < in.size(); ++k) dins.push_back(differentiable[k] ? &din[k] : nullptr);
      std::vector<const Tensor*> douts;
      std::vector<Tensor> zeros(fout.size());
      for (size_t k = 0; k < fout.size(); ++k) {
        zeros[k].reshape(fout[k].shape());
        zeros[k].zero();
        douts.push_back(&zeros[k]);
      }
      layer.run_backward(ctx, inputs(), outs, douts, dins);
    };
  }
  Inputs inputs() const {
    Inputs x;
    for (const Tensor& t : in) x.push_back(&t);
    for (const IndexTensor& t : index) x.index.push_back(&t);
    return x;
  }
  void run(float scale) {
    ctx.rng.seed_with(11);
    ctx.loss_scale = scale;
    layer.run_forward(ctx, inputs(), outs);
    loss[0] = float(layer.loss() / scale);
    ctx.loss_scale = 1.f;
  }
};

IndexTensor index_of(std::vector<int> v) {
  IndexTensor t(int(v.size()), 1);
  for (size_t i = 0; i < v.size(); ++i) t[i] = v[i];
  return t;
}

std::vector<IndexTensor> indices(IndexTensor a, IndexTensor b, IndexTensor c) {
  std::vector<IndexTensor> v;
  v.push_back(std::move(a));
  v.push_back(std::move(b));
  v.push_back(std::move(c));
  return v;
}

Tensor rows(std::vector<float> v, int cols) {
  Tensor t(int(v.size()) / cols, cols);
  for (size_t i = 0; i < v.size(); ++i) t[i] = v[i];
  return t;
}

const char* kRpn =
    "[rpn]\nstrides=8,16\nanchor_sizes=16,32\naspect_ratios=0.5,1,2\nbatch_per_image=32\nfilters=6\n"
    "pre_nms_topk_train=50\npost_nms_topk_train=20\n";

}  // namespace

TEST_CASE("rpn: the loss gradient reaches the features and the shared head's params") {
  Batch b = batch_of({targets({{4, 6, 30, 28}, {20, 2, 60, 40}}, {0, 1}), targets({{10, 10, 50, 60}}, {2})}, 64);
  std::vector<Shape> in{{2, 4, 8, 8}, {2, 4, 4, 4}};
  auto l = build_layer(kRpn, in);
  std::vector<Tensor> xs;
  xs.push_back(random_tensor(in[0], 3));
  xs.push_back(random_tensor(in[1], 4));
  LossCheck c(*l, b, std::move(xs), {true, true}, {});
  c.run(1.f);
  CHECK(std::isfinite(l->loss()));
  CHECK(l->loss() > 0);
  CHECK(gradcheck(c.g, 5) < 2e-2);
  // The shared head: one set of params however many levels.
  CHECK(l->params().size() == 6);
}

TEST_CASE("rpn: proposals are per image, clipped and capped at post_nms_topk") {
  Batch b = batch_of({targets({{4, 6, 30, 28}}, {0}), targets({}, {})}, 64);
  std::vector<Shape> in{{2, 4, 8, 8}, {2, 4, 4, 4}};
  auto l = build_layer(kRpn, in);
  Context ctx;
  ctx.train = true;
  ctx.batch = &b;
  Tensor x0 = random_tensor(in[0], 3), x1 = random_tensor(in[1], 4), props;
  IndexTensor image;
  l->run_forward(ctx, Inputs{&x0, &x1}, Outputs{{&props}, {&image}});
  // An image without ground truth is all background: a finite, positive objectness loss.
  CHECK(std::isfinite(l->loss()));
  REQUIRE(props.n() == int(image.size()));
  int per[2] = {0, 0};
  for (int r = 0; r < props.n(); ++r) {
    REQUIRE((image[r] == 0 || image[r] == 1));
    if (r) CHECK(image[r] >= image[r - 1]);  // grouped by image
    ++per[image[r]];
    const float* p = props.data() + size_t(r) * 4;
    CHECK(p[0] >= 0);
    CHECK(p[1] >= 0);
    CHECK(p[2] <= 64);
    CHECK(p[3] <= 64);
    CHECK(p[2] > p[0]);
    CHECK(p[3] > p[1]);
  }
  CHECK(per[0] == 20);
  CHECK(per[1] == 20);
}

TEST_CASE("roi_sampler: ground truth appended, positives first with their class and box") {
  Batch b = batch_of({targets({{0, 0, 10, 10}, {20, 20, 40, 40}}, {3, 1}), targets({}, {})}, 64);
  auto l = build_layer("[roi_sampler]\nclasses=4\nbatch_per_image=8\npositive_fraction=0.5\n", {{3, 4, 1, 1}});
  // Image 0: one proposal on box 1 (IoU 0.81), one far away; image 1 (no ground truth): one.
  Tensor props = rows({21, 21, 39, 39, 50, 0, 60, 8, 1, 1, 9, 9}, 4);
  IndexTensor image = index_of({0, 0, 1});
  Tensor rois;
  IndexTensor oi, lab, gt;
  Context ctx;
  ctx.train = true;
  ctx.batch = &b;
  Inputs in{&props};
  in.index = {&image};
  l->run_forward(ctx, in, Outputs{{&rois}, {&oi, &lab, &gt}});
  // Image 0: 4 candidates (2 proposals + 2 gt), 3 positive (both gt boxes and the close proposal).
  REQUIRE(rois.n() == 5);
  for (int r = 0; r < 3; ++r) {
    CHECK(oi[r] == 0);
    CHECK(lab[r] == (gt[r] == 0 ? 3 : 1));
    CHECK(gt[r] >= 0);
  }
  CHECK(lab[3] == 4);  // background = classes
  CHECK(gt[3] == -1);
  CHECK(oi[4] == 1);
  CHECK(lab[4] == 4);
  // Inference passes the proposals through, unlabelled.
  ctx.train = false;
  l->run_forward(ctx, in, Outputs{{&rois}, {&oi, &lab, &gt}});
  CHECK(rois.n() == 3);
  CHECK(lab[0] == -1);
}

TEST_CASE("box_predictor: the loss gradient (classes and class-specific deltas)") {
  Batch b = batch_of({targets({{0, 0, 20, 20}, {30, 30, 60, 50}}, {0, 2}), targets({{5, 5, 25, 35}}, {1})}, 64);
  // Smooth L1 (beta 0.5) rather than L1: its derivative is defined where a delta meets its target.
  auto l = build_layer("[box_predictor]\nclasses=3\nsmooth_l1_beta=0.5\n", {{5, 6, 1, 1}, {5, 4, 1, 1}});
  Tensor rois = rows({1, 2, 18, 21, 27, 32, 58, 49, 40, 0, 64, 10, 6, 4, 24, 33, 0, 40, 20, 64}, 4);
  std::vector<Tensor> xs;
  xs.push_back(random_tensor({5, 6, 1, 1}, 8));
  xs.push_back(std::move(rois));
  LossCheck c(*l, b, std::move(xs), {true, false},
              indices(index_of({0, 0, 0, 1, 1}), index_of({0, 2, 3, 1, 3}), index_of({0, 1, -1, 0, -1})));
  c.run(1.f);
  CHECK(l->loss() > 0);
  CHECK(gradcheck(c.g, 9) < 2e-2);
  // The positives go on to the mask head with their class and ground truth.
  CHECK(c.fout[0].n() == 3);
  CHECK(c.iout[1][1] == 2);
  CHECK(c.iout[2][1] == 1);
}

TEST_CASE("mask_predictor: the loss gradient against the cropped ground-truth masks") {
  Batch b = batch_of({targets({{0, 0, 20, 20}, {30, 30, 60, 50}}, {0, 2})}, 64);
  auto l = build_layer("[mask_predictor]\nclasses=3\n", {{2, 3, 6, 6}, {2, 4, 1, 1}});
  std::vector<Tensor> xs;
  xs.push_back(random_tensor({2, 3, 6, 6}, 12));
  xs.push_back(rows({1, 1, 19, 20, 29, 31, 61, 50}, 4));
  LossCheck c(*l, b, std::move(xs), {true, false}, indices(index_of({0, 0}), index_of({0, 2}), index_of({0, 1})));
  c.run(1.f);
  CHECK(l->loss() > 0);
  CHECK(gradcheck(c.g, 13) < 2e-2);
}

TEST_CASE("detector heads: zero RoIs and no positives keep every loss finite (zero)") {
  Batch b = batch_of({targets({}, {})}, 64);
  Context ctx;
  ctx.train = true;
  ctx.batch = &b;
  auto box = build_layer("[box_predictor]\nclasses=3\n", {{0, 6, 1, 1}, {0, 4, 1, 1}});
  Tensor x(0, 6), rois(0, 4), ob, os;
  IndexTensor e0(0, 1), e1(0, 1), e2(0, 1), oi, oc, og;
  Inputs bi{&x, &rois};
  bi.index = {&e0, &e1, &e2};
  box->run_forward(ctx, bi, Outputs{{&ob, &os}, {&oi, &oc, &og}});
  CHECK(box->loss() == 0);
  CHECK(ob.n() == 0);
  auto mask = build_layer("[mask_predictor]\nclasses=3\n", {{0, 3, 6, 6}, {0, 4, 1, 1}});
  Tensor mx(0, 3, 6, 6), mout;
  Inputs mi{&mx, &ob};
  mi.index = {&oi, &oc, &og};
  mask->run_forward(ctx, mi, mout);
  CHECK(mask->loss() == 0);
  CHECK(mout.n() == 0);
}

TEST_CASE("roi_align: each RoI pooled from its level, gradients back to that level only") {
  auto l = build_layer("[roi_align]\noutput=3\nsampling_ratio=2\nstrides=4,8\n", {{3, 4, 1, 1}, {1, 2, 16, 16}, {1, 2, 8, 8}});
  // A small box (level 0) and a large one (level 1: sqrt(area) >= 224 / 4... with canonical 224 at
  // level 4, strides 4 and 8 are levels 2 and 3, so big boxes clamp to level 3).
  Tensor rois = rows({2, 2, 10, 10, 0, 0, 60, 60, 4, 4, 30, 20}, 4);
  IndexTensor image = index_of({0, 0, 0});
  Tensor f0 = random_tensor({1, 2, 16, 16}, 21), f1 = random_tensor({1, 2, 8, 8}, 22), out;
  Context ctx;
  Inputs in{&rois, &f0, &f1};
  in.index = {&image};
  l->run_forward(ctx, in, out);
  detect::LevelMapper m;
  m.min_level = 2;
  m.max_level = 3;
  m.style = detect::LevelStyle::Detectron2;
  IndexTensor lv;
  m.assign(rois, lv);
  for (int r = 0; r < 3; ++r) {
    detect::RoIAlignParams p;
    p.pooled_h = p.pooled_w = 3;
    p.sampling_ratio = 2;
    p.spatial_scale = lv[r] == 0 ? 0.25f : 0.125f;
    Tensor one = rows({rois[size_t(r) * 4], rois[size_t(r) * 4 + 1], rois[size_t(r) * 4 + 2], rois[size_t(r) * 4 + 3]}, 4),
           want;
    IndexTensor i0 = index_of({0});
    detect::roi_align(lv[r] == 0 ? f0 : f1, one, i0, p, want);
    for (size_t k = 0; k < want.size(); ++k) CHECK(out[size_t(r) * want.size() + k] == want[k]);
  }
  // Gradient: the pooler is linear in the features; check it by finite differences.
  Tensor d0(f0.shape()), d1(f1.shape()), dout;
  GradCheck g;
  g.out = &out;
  g.dout = &dout;
  g.forward = [&] { l->run_forward(ctx, in, out); };
  g.backward = [&] { l->run_backward(ctx, in, out, dout, {nullptr, &d0, &d1}); };
  g.probes = {{"f0", &f0, &d0}, {"f1", &f1, &d1}};
  CHECK(gradcheck(g, 23) < 1e-2);
}
