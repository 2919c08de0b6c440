// [box_predictor] from=FEATURES,ROIS,ROIS:image,ROIS:labels,ROIS:gt: the box head's last layer
// (Detectron2's FastRCNNOutputLayers): class scores (classes + 1, background last) and
// class-specific box deltas (4 per class) from each RoI's features. Training: softmax
// cross-entropy over the sampled RoIs and the box loss (smooth L1 / L1) on the deltas of each
// positive's class, both divided by the RoI count (Detectron2's per-batch mean). Inference: boxes
// decoded per class and clipped, scores above score_thresh, NMS per class, the `detections` best
// per image.
// Ports: boxes (no gradient): in training the positive RoIs (what the mask head trains on), in
// inference the detections; scores (their class probability); image, classes, gt (the matched
// ground truth in training, -1 in inference), rows grouped by image.
#include <algorithm>
#include <cmath>

#include "layers/det_common.h"
#include "layers/factories.h"
#include "layers/factory_util.h"
#include "mabdet/detect/box_coder.h"
#include "mabdet/detect/boxes.h"
#include "mabdet/detect/nms.h"
#include "mabdet/ops.h"

namespace mabdet {
namespace {

using namespace detect;

struct BoxPredCfg {
  int classes = 0;
  bool agnostic = false;  // one set of deltas for every class
  BoxCoder coder;
  float beta = 0.f, box_weight = 1.f, score_thresh = 0.05f, nms = 0.5f;
  float min_size = 0.f;  // torchvision drops detections narrower or lower than 0.01 px; 0 keeps all

  int detections = 100;
};

class BoxPredictor : public Layer {
 public:
  BoxPredictor(BoxPredCfg c, int in, Rng& rng) : c_(c), in_(in) {
    const int K = c.classes, nd = 4 * (c.agnostic ? 1 : K);
    // Detectron2's init: N(0, 0.01) for the scores, N(0, 0.001) for the deltas, zero biases.
    init(cls_w_, dcls_w_, K + 1, 0.01, rng);
    init(box_w_, dbox_w_, nd, 0.001, rng);
    for (auto* b : {&cls_b_, &dcls_b_}) {
      b->reshape(1, K + 1);
      b->zero();
    }
    for (auto* b : {&box_b_, &dbox_b_}) {
      b->reshape(1, nd);
      b->zero();
    }
  }
  std::string type() const override { return "box_predictor"; }
  void to(Device d) override { host_only(d); }
  std::string filters_str() const override { return cat(c_.classes + 1); }
  std::string size_str() const override { return cat(in_, "->", c_.classes + 1, "+", box_w_.n()); }
  std::vector<Port> ports() const override {
    return {{"boxes", Kind::Float, false}, {"scores", Kind::Float, false}, {"image", Kind::Index},
            {"classes", Kind::Index}, {"gt", Kind::Index}};
  }
  Shape port_shape(size_t) const override { return Shape{0, 1, 1, 1}; }
  bool is_loss() const override { return true; }
  double loss() const override { return cls_loss_ + box_loss_; }
  std::vector<LossTerm> loss_terms() const override { return {{"box_cls", cls_loss_}, {"box_loc", box_loss_}}; }

  Shape reshape(const std::vector<Shape>& in) override {
    if (int(in.at(0).chw()) != in_) fail("box_predictor: ", in[0].chw(), " features per RoI, built for ", in_);
    if (in.at(1).c != 4 || in[1].n != in[0].n) fail("box_predictor: RoIs ", in[1].str(), " for features ", in[0].str());
    return Shape{0, 4, 1, 1};
  }

  void forward_ports(Context& ctx, const Inputs& in, const Outputs& out) override {
    if (in.index.size() != 3) fail("box_predictor: needs from=FEATURES,ROIS,ROIS:image,ROIS:labels,ROIS:gt");
    const Tensor& x = *in[0];
    const int R = x.n(), K = c_.classes, nd = box_w_.n();
    for (const IndexTensor* t : in.index)
      if (t->size() != size_t(R)) fail("box_predictor: ", R, " RoIs, but an index input has ", t->size());
    scores_.reshape(R, K + 1);
    deltas_.reshape(R, nd);
    linear(x, cls_w_, cls_b_, scores_);
    linear(x, box_w_, box_b_, deltas_);
    prob_.reshape(R, K + 1);
    cls_loss_ = box_loss_ = 0;
    if (ctx.train) return train_forward(ctx, in, out);
    ops::softmax_cross_entropy(Device::CPU, R, K + 1, scores_.data(), nullptr, prob_.data(), nullptr);
    infer(ctx, *in[1], *in.index[0], out);
  }

  void backward_ports(Context& ctx, const Inputs& in, const Outputs& out, const std::vector<const Tensor*>& dout,
                      const InputGrads& din) override {
    if (!ctx.train) return;
    const Tensor& x = *in[0];
    const int R = x.n();
    if (R == 0) return;
    Tensor* dx = din.empty() ? nullptr : din[0];
    for (auto [w, dw, db, dy] : {std::tuple{&cls_w_, &dcls_w_, &dcls_b_, &dscores_}, {&box_w_, &dbox_w_, &dbox_b_, &ddeltas_}}) {
      const int O = w->n();
      ops::gemm(Device::CPU, true, false, O, in_, R, 1.f, dy->data(), O, x.data(), in_, 1.f, dw->data(), in_);
      for (int r = 0; r < R; ++r)
        for (int o = 0; o < O; ++o) (*db)[o] += (*dy)[size_t(r) * O + o];
      if (dx) ops::gemm(Device::CPU, false, false, R, in_, O, 1.f, dy->data(), O, w->data(), in_, 1.f, dx->data(), in_);
    }
  }

  std::vector<Param> params() override {
    return {{"cls.weights", &cls_w_, &dcls_w_, 1.f, 1.f},
            {"cls.bias", &cls_b_, &dcls_b_, 1.f, 0.f},
            {"box.weights", &box_w_, &dbox_w_, 1.f, 1.f},
            {"box.bias", &box_b_, &dbox_b_, 1.f, 0.f}};
  }

 private:
  void init(Tensor& w, Tensor& dw, int rows, double std, Rng& rng) {
    w.reshape(rows, in_);
    dw.reshape(rows, in_);
    dw.zero();
    for (size_t i = 0; i < w.size(); ++i) w[i] = float(std * rng.normal());
  }
  void linear(const Tensor& x, const Tensor& w, const Tensor& b, Tensor& y) {
    const int R = x.n(), O = w.n();
    for (int r = 0; r < R; ++r) std::copy(b.data(), b.data() + O, y.data() + size_t(r) * O);
    if (R) ops::gemm(Device::CPU, false, true, R, O, in_, 1.f, x.data(), in_, w.data(), in_, 1.f, y.data(), O);
  }
  int delta_col(int cls) const { return c_.agnostic ? 0 : 4 * cls; }

  void train_forward(Context& ctx, const Inputs& in, const Outputs& out) {
    const Tensor& rois = *in[1];
    const IndexTensor &image = *in.index[0], &labels = *in.index[1], &gt = *in.index[2];
    const int R = rois.n(), K = c_.classes, nd = box_w_.n();
    const Batch& b = train_batch(ctx, "box_predictor", ctx.batch ? ctx.batch->size() : 0);
    for (int r = 0; r < R; ++r)
      if (labels[r] < 0 || labels[r] > K) fail("box_predictor: RoI ", r, " has label ", labels[r], "; train it on [roi_sampler] RoIs");
    dscores_.reshape(R, K + 1);
    dscores_.zero();
    ddeltas_.reshape(R, nd);
    ddeltas_.zero();
    loss_.reshape(R, 1);
    // The per-RoI mean of the sub-batch, weighted by its share of the step's images.
    const float scale = R ? ctx.loss_scale * float(b.size()) / float(R) : 0.f;
    if (R) {
      ops::softmax_cross_entropy(Device::CPU, R, K + 1, scores_.data(), labels.data(), prob_.data(), loss_.data());
      for (int r = 0; r < R; ++r) cls_loss_ += double(scale) * loss_[r];
      ops::softmax_cross_entropy_backward(Device::CPU, R, K + 1, prob_.data(), labels.data(), scale, dscores_.data());
    }
    pos_.clear();
    for (int r = 0; r < R; ++r)
      if (labels[r] < K) pos_.push_back(r);
    const int P = int(pos_.size());
    ref_.reshape(P, 4);
    tgt_.reshape(P, 4);
    for (int j = 0; j < P; ++j) {
      const int r = pos_[j];
      const Targets& t = b.targets.at(size_t(image[r]));
      if (gt[r] < 0 || gt[r] >= t.size()) fail("box_predictor: RoI ", r, " names ground truth ", gt[r]);
      for (int k = 0; k < 4; ++k) {
        ref_[size_t(j) * 4 + k] = rois[size_t(r) * 4 + k];
        tgt_[size_t(j) * 4 + k] = t.boxes[size_t(gt[r]) * 4 + k];
      }
    }
    c_.coder.encode(ref_, tgt_, enc_);
    for (int j = 0; j < P; ++j) {
      const int r = pos_[j], col = delta_col(labels[r]);
      for (int k = 0; k < 4; ++k) {
        float g;
        box_loss_ += double(scale) * c_.box_weight *
                     smooth_l1(deltas_[size_t(r) * nd + col + k] - enc_[size_t(j) * 4 + k], c_.beta, g);
        ddeltas_[size_t(r) * nd + col + k] = scale * c_.box_weight * g;
      }
    }
    // The positives go on to the mask head.
    Tensor &ob = *out.f[0], &os = *out.f[1];
    IndexTensor &oi = *out.index[0], &oc = *out.index[1], &og = *out.index[2];
    ob.reshape(P, 4);
    os.reshape(P, 1);
    for (IndexTensor* t : {&oi, &oc, &og}) t->reshape(P, 1);
    for (int j = 0; j < P; ++j) {
      const int r = pos_[j];
      std::copy(rois.data() + size_t(r) * 4, rois.data() + size_t(r) * 4 + 4, ob.data() + size_t(j) * 4);
      os[j] = prob_[size_t(r) * (K + 1) + labels[r]];
      oi[j] = image[r];
      oc[j] = labels[r];
      og[j] = gt[r];
    }
  }

  void infer(Context& ctx, const Tensor& rois, const IndexTensor& image, const Outputs& out) {
    const int R = rois.n(), K = c_.classes, nd = box_w_.n();
    c_.coder.decode(deltas_, rois, dec_);  // (R, nd)
    const int N = ctx.batch ? ctx.batch->size() : (R ? *std::max_element(image.data(), image.data() + R) + 1 : 0);
    std::vector<float> boxes, scores;
    std::vector<int> img, cls;
    for (int n = 0; n < N; ++n) {
      int ih = 1 << 30, iw = 1 << 30;
      if (ctx.batch) image_size(ctx, n, ih, iw, ih, iw);
      cb_.clear();
      cs_.clear();
      cc_.clear();
      for (int r = 0; r < R; ++r) {
        if (image[r] != n) continue;
        for (int k = 0; k < K; ++k) {
          const float s = prob_[size_t(r) * (K + 1) + k];
          if (!(s > c_.score_thresh)) continue;
          float b[4];
          for (int q = 0; q < 4; ++q) b[q] = dec_[size_t(r) * nd + delta_col(k) + q];
          b[0] = std::clamp(b[0], 0.f, float(iw));
          b[2] = std::clamp(b[2], 0.f, float(iw));
          b[1] = std::clamp(b[1], 0.f, float(ih));
          b[3] = std::clamp(b[3], 0.f, float(ih));
          if (!(std::isfinite(b[0]) && std::isfinite(b[1]) && std::isfinite(b[2]) && std::isfinite(b[3]))) continue;
          if (!(b[2] - b[0] >= c_.min_size && b[3] - b[1] >= c_.min_size)) continue;
          cb_.insert(cb_.end(), b, b + 4);
          cs_.push_back(s);
          cc_.push_back(k);
        }
      }
      const int M = int(cs_.size());
      tb_.reshape(M, 4);
      ts_.reshape(M, 1);
      tc_.reshape(M, 1);
      std::copy(cb_.begin(), cb_.end(), tb_.data());
      std::copy(cs_.begin(), cs_.end(), ts_.data());
      std::copy(cc_.begin(), cc_.end(), tc_.data());
      batched_nms(tb_, ts_, tc_, c_.nms, keep_);
      const size_t D = std::min(keep_.size(), size_t(c_.detections));
      for (size_t j = 0; j < D; ++j) {
        const int i = keep_[j];
        boxes.insert(boxes.end(), tb_.data() + size_t(i) * 4, tb_.data() + size_t(i) * 4 + 4);
        scores.push_back(ts_[i]);
        img.push_back(n);
        cls.push_back(tc_[i]);
      }
    }
    const int D = int(img.size());
    Tensor &ob = *out.f[0], &os = *out.f[1];
    IndexTensor &oi = *out.index[0], &oc = *out.index[1], &og = *out.index[2];
    ob.reshape(D, 4);
    os.reshape(D, 1);
    for (IndexTensor* t : {&oi, &oc, &og}) t->reshape(D, 1);
    std::copy(boxes.begin(), boxes.end(), ob.data());
    std::copy(scores.begin(), scores.end(), os.data());
    std::copy(img.begin(), img.end(), oi.data());
    std::copy(cls.begin(), cls.end(), oc.data());
    og.fill(-1);
  }

  BoxPredCfg c_;
  int in_;
  Tensor cls_w_, dcls_w_, cls_b_, dcls_b_, box_w_, dbox_w_, box_b_, dbox_b_;
  Tensor scores_, deltas_, prob_, dscores_, ddeltas_, loss_, ref_, tgt_, enc_, dec_, tb_, ts_;
  IndexTensor tc_, keep_;
  std::vector<int> pos_, cc_;
  std::vector<float> cb_, cs_;
  double cls_loss_ = 0, box_loss_ = 0;
};

}  // namespace

std::unique_ptr<Layer> make_box_predictor(const Scope& cfg, const std::vector<Shape>& in, Rng& rng) {
  const Section& sec = cfg.sec;
  BoxPredCfg c;
  c.classes = classes_key(cfg);
  c.agnostic = sec.get_bool("class_agnostic", false);
  std::vector<float> w = sec.get_floats("box_weights", {10, 10, 5, 5});
  if (w.size() != 4) sec.fail_key("box_weights", "needs 4 values (wx, wy, ww, wh)");
  for (float v : w)
    if (!(v > 0)) sec.fail_key("box_weights", "every weight must be > 0");
  c.coder.wx = w[0];
  c.coder.wy = w[1];
  c.coder.ww = w[2];
  c.coder.wh = w[3];
  c.beta = read_box_loss_beta(sec, 0.f);
  c.box_weight = sec.get_float("box_loss_weight", 1.f);
  if (!(c.box_weight >= 0)) sec.fail_key("box_loss_weight", "must be >= 0");
  c.score_thresh = sec.get_float("score_thresh", 0.05f);
  if (!(c.score_thresh >= 0 && c.score_thresh < 1)) sec.fail_key("score_thresh", "must be in [0, 1)");
  c.nms = sec.get_float("nms", 0.5f);
  if (!(c.nms > 0 && c.nms <= 1)) sec.fail_key("nms", "must be in (0, 1]");
  c.detections = positive_key(sec, "detections", 100);
  c.min_size = sec.get_float("min_size", 0.f);
  if (!(c.min_size >= 0)) sec.fail_key("min_size", "must be >= 0 (0: keep every box)");
  const size_t feat = in.at(0).chw();
  if (feat == 0 || feat > size_t(kMaxKey) * 64) sec.fail_section(cat("features per RoI: ", feat));
  return reshaped(sec, std::make_unique<BoxPredictor>(c, int(feat), rng), in);
}

}  // namespace mabdet
