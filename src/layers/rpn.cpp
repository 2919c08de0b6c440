// [rpn] from=p2,p3,p4,p5,p6: the region proposal network over FPN levels (Detectron2's
// StandardRPNHead + RPN). One head (3x3 conv + relu, 1x1 objectness, 1x1 deltas per anchor) is
// shared by every level: a conv unit per level whose params are views of level 0's. Training
// (ctx.train): anchors are matched to the batch's boxes (IoU 0.3/0.7, low-quality matches),
// batch_per_image of them sampled per image, and the objectness (BCE) and box (smooth L1 / L1)
// losses are summed over those and divided by batch_per_image per image. Proposals, in training
// and inference alike: per image and level the pre_nms_topk best anchors, decoded, clipped to the
// image, empty ones dropped, NMS per level, then the post_nms_topk best of the image.
// Ports: proposals (R, 4) (no gradient), image (R) Index, rows grouped by image.
#include <algorithm>
#include <numeric>

#include "layers/det_common.h"
#include "layers/factories.h"
#include "layers/factory_util.h"
#include "mabdet/conv_unit.h"
#include "mabdet/detect/anchors.h"
#include "mabdet/detect/box_coder.h"
#include "mabdet/detect/boxes.h"
#include "mabdet/detect/matcher.h"
#include "mabdet/detect/nms.h"
#include "mabdet/detect/sampler.h"

namespace mabdet {
namespace {

using namespace detect;

struct RpnCfg {
  AnchorGenerator anchors;
  BoxCoder coder;
  Matcher matcher;
  BalancedSampler sampler;
  int pre_topk[2] = {1000, 2000}, post_topk[2] = {1000, 1000};  // [test, train]
  float nms = 0.7f, min_size = 0.f, beta = 0.f, box_weight = 1.f;
};

// One head (conv, objectness, deltas) applied to one level, with that level's buffers.
struct LevelHead {
  std::unique_ptr<Layer> conv, cls, reg;
  Tensor hid, logit, delta, dhid, dlogit, ddelta, anchors;
  int anchor_h = -1, anchor_w = -1;
};

class Rpn : public Layer {
 public:
  Rpn(RpnCfg c, std::vector<LevelHead> levels) : c_(std::move(c)), lv_(std::move(levels)) {}

  std::string type() const override { return "rpn"; }
  void to(Device d) override { host_only(d); }
  std::string filters_str() const override { return cat(c_.anchors.anchors_per_cell(0), "a"); }
  std::string size_str() const override { return cat(lv_.size(), " levels"); }
  std::vector<Port> ports() const override { return {{"proposals", Kind::Float, false}, {"image", Kind::Index, false}}; }
  bool is_loss() const override { return true; }
  double loss() const override { return cls_loss_ + loc_loss_; }
  std::vector<LossTerm> loss_terms() const override { return {{"rpn_cls", cls_loss_}, {"rpn_loc", loc_loss_}}; }

  Shape reshape(const std::vector<Shape>& in) override {
    if (in.size() != lv_.size()) fail("rpn: built for ", lv_.size(), " levels, given ", in.size());
    for (size_t l = 0; l < in.size(); ++l)
      if (in[l].n != in[0].n) fail("rpn: level ", l, " has ", in[l].n, " images, level 0 ", in[0].n);
    return Shape{0, 4, 1, 1};
  }

  void forward_ports(Context& ctx, const Inputs& in, const Outputs& out) override {
    const int N = in[0]->n(), A = c_.anchors.anchors_per_cell(0);
    for (size_t l = 0; l < lv_.size(); ++l) {
      LevelHead& h = lv_[l];
      MABDET_ASSERT(in[l]->device() == Device::CPU, "rpn runs on the host");
      h.conv->run_forward(ctx, Inputs{in[l]}, h.hid);
      h.cls->run_forward(ctx, Inputs{&h.hid}, h.logit);
      h.reg->run_forward(ctx, Inputs{&h.hid}, h.delta);
      if (h.anchor_h != in[l]->h() || h.anchor_w != in[l]->w()) {
        c_.anchors.generate(int(l), in[l]->h(), in[l]->w(), h.anchors);
        h.anchor_h = in[l]->h();
        h.anchor_w = in[l]->w();
      }
    }
    cls_loss_ = loc_loss_ = 0;
    const bool train = ctx.train;
    if (train) {
      const Batch& b = train_batch(ctx, "rpn", N);
      for (LevelHead& h : lv_) {
        h.dlogit.reshape(h.logit.shape());
        h.dlogit.zero();
        h.ddelta.reshape(h.delta.shape());
        h.ddelta.zero();
      }
      for (int n = 0; n < N; ++n) targets_and_losses(ctx, n, b.targets[n]);
    }
    Tensor& props = *out.f[0];
    IndexTensor& image = *out.index[0];
    props_.clear();
    img_.clear();
    const int pad_h = in[0]->h() * int(c_.anchors.strides[0]), pad_w = in[0]->w() * int(c_.anchors.strides[0]);
    for (int n = 0; n < N; ++n) proposals_of(ctx, n, A, pad_h, pad_w, train);
    const int R = int(img_.size());
    props.reshape(R, 4);
    image.reshape(R, 1);
    std::copy(props_.begin(), props_.end(), props.data());
    std::copy(img_.begin(), img_.end(), image.data());
  }

  void backward_ports(Context& ctx, const Inputs& in, const Outputs& out, const std::vector<const Tensor*>& dout,
                      const InputGrads& din) override {
    if (!ctx.train) return;
    for (size_t l = 0; l < lv_.size(); ++l) {
      LevelHead& h = lv_[l];
      h.dhid.reshape(h.hid.shape());
      h.dhid.zero();
      h.cls->run_backward(ctx, Inputs{&h.hid}, h.logit, h.dlogit, {&h.dhid});
      h.reg->run_backward(ctx, Inputs{&h.hid}, h.delta, h.ddelta, {&h.dhid});
      h.conv->run_backward(ctx, Inputs{in[l]}, h.hid, h.dhid, {din.empty() ? nullptr : din[l]});
    }
  }

  std::vector<Param> params() override {
    std::vector<Param> ps;
    add(ps, "conv.", lv_[0].conv->params());
    add(ps, "cls.", lv_[0].cls->params());
    add(ps, "reg.", lv_[0].reg->params());
    return ps;
  }
  std::vector<State> state() override {
    std::vector<State> st;
    for (size_t l = 0; l < lv_.size(); ++l)
      for (Layer* u : {lv_[l].conv.get(), lv_[l].cls.get(), lv_[l].reg.get()})
        for (State s : u->state()) {
          s.name = cat("l", l, ".", u == lv_[l].conv.get() ? "conv." : u == lv_[l].cls.get() ? "cls." : "reg.", s.name);
          st.push_back(s);
        }
    return st;
  }

 private:
  static void add(std::vector<Param>& ps, const char* prefix, std::vector<Param> more) {
    for (Param& p : more) {
      p.name = prefix + p.name;
      ps.push_back(p);
    }
  }

  // Level l's anchor a at position p of image n: its logit and its 4 deltas.
  float& logit(Tensor& t, int n, int a, size_t p) { return t[(size_t(n) * t.c() + a) * t.shape().plane() + p]; }
  float& delta(Tensor& t, int n, int a, int k, size_t p) {
    return t[(size_t(n) * t.c() + a * 4 + k) * t.shape().plane() + p];
  }

  void targets_and_losses(Context& ctx, int n, const Targets& t) {
    const int A = c_.anchors.anchors_per_cell(0);
    size_t total = 0;
    for (LevelHead& h : lv_) total += h.anchors.n();
    all_anchors_.reshape(int(total), 4);
    size_t off = 0;
    for (LevelHead& h : lv_) {
      std::copy(h.anchors.data(), h.anchors.data() + h.anchors.size(), all_anchors_.data() + off * 4);
      off += h.anchors.n();
    }
    const int G = t.size();
    gt_.reshape(G, 4);
    std::copy(t.boxes.begin(), t.boxes.end(), gt_.data());
    box_iou(gt_, all_anchors_, iou_);
    c_.matcher.match(iou_, matches_, labels_);
    c_.sampler.sample(labels_, ctx.rng, pos_, neg_);
    // Detectron2 normalizes both losses by batch_per_image * images; loss_scale is 1/images per step.
    const float scale = ctx.loss_scale / float(c_.sampler.batch_per_image);
    auto locate = [&](int idx, int& level, size_t& p, int& a) {
      level = 0;
      while (idx >= lv_[level].anchors.n()) idx -= lv_[level++].anchors.n();
      p = size_t(idx / A);
      a = idx % A;
    };
    for (int pass = 0; pass < 2; ++pass) {
      const IndexTensor& set = pass == 0 ? pos_ : neg_;
      for (size_t s = 0; s < set.size(); ++s) {
        int level, a;
        size_t p;
        locate(set[s], level, p, a);
        LevelHead& h = lv_[level];
        float g;
        cls_loss_ += scale * bce_logits(logit(h.logit, n, a, p), pass == 0 ? 1.f : 0.f, g);
        logit(h.dlogit, n, a, p) = scale * g;
      }
    }
    if (pos_.size() == 0) return;
    ref_.reshape(int(pos_.size()), 4);
    tgt_.reshape(int(pos_.size()), 4);
    for (size_t s = 0; s < pos_.size(); ++s)
      for (int k = 0; k < 4; ++k) {
        ref_[s * 4 + k] = all_anchors_[size_t(pos_[s]) * 4 + k];
        tgt_[s * 4 + k] = gt_[size_t(matches_[pos_[s]]) * 4 + k];
      }
    c_.coder.encode(ref_, tgt_, enc_);
    for (size_t s = 0; s < pos_.size(); ++s) {
      int level, a;
      size_t p;
      locate(pos_[s], level, p, a);
      LevelHead& h = lv_[level];
      for (int k = 0; k < 4; ++k) {
        float g;
        loc_loss_ += scale * c_.box_weight * smooth_l1(delta(h.delta, n, a, k, p) - enc_[s * 4 + k], c_.beta, g);
        delta(h.ddelta, n, a, k, p) = scale * c_.box_weight * g;
      }
    }
  }

  void proposals_of(Context& ctx, int n, int A, int pad_h, int pad_w, bool train) {
    int ih, iw;
    image_size(ctx, n, pad_h, pad_w, ih, iw);
    cand_.clear();
    cand_level_.clear();
    cand_score_.clear();
    for (size_t l = 0; l < lv_.size(); ++l) {
      LevelHead& h = lv_[l];
      const size_t hw = h.logit.shape().plane(), count = hw * A;
      order_.resize(count);
      std::iota(order_.begin(), order_.end(), 0);
      auto score = [&](int i) { return logit(h.logit, n, i % A, size_t(i / A)); };
      const size_t k = std::min(count, size_t(c_.pre_topk[train]));
      std::partial_sort(order_.begin(), order_.begin() + k, order_.end(), [&](int x, int y) {
        const float sx = score(x), sy = score(y);
        return sx > sy || (sx == sy && x < y);
      });
      ref_.reshape(int(k), 4);
      dl_.reshape(int(k), 4);
      for (size_t j = 0; j < k; ++j) {
        const int i = order_[j], a = i % A;
        const size_t p = size_t(i / A);
        for (int q = 0; q < 4; ++q) {
          ref_[j * 4 + q] = h.anchors[size_t(i) * 4 + q];
          dl_[j * 4 + q] = delta(h.delta, n, a, q, p);
        }
      }
      c_.coder.decode(dl_, ref_, dec_);
      clip_boxes(dec_, ih, iw);
      for (size_t j = 0; j < k; ++j) {
        const float* b = dec_.data() + j * 4;
        const float s = score(order_[j]);
        if (!(b[2] - b[0] > c_.min_size && b[3] - b[1] > c_.min_size) || !std::isfinite(s)) continue;
        cand_.insert(cand_.end(), b, b + 4);
        cand_level_.push_back(int(l));
        cand_score_.push_back(s);
      }
    }
    const int M = int(cand_level_.size());
    cb_.reshape(M, 4);
    cs_.reshape(M, 1);
    cl_.reshape(M, 1);
    std::copy(cand_.begin(), cand_.end(), cb_.data());
    std::copy(cand_score_.begin(), cand_score_.end(), cs_.data());
    std::copy(cand_level_.begin(), cand_level_.end(), cl_.data());
    batched_nms(cb_, cs_, cl_, c_.nms, keep_);
    const size_t k = std::min(keep_.size(), size_t(c_.post_topk[train]));
    for (size_t j = 0; j < k; ++j) {
      props_.insert(props_.end(), cb_.data() + size_t(keep_[j]) * 4, cb_.data() + size_t(keep_[j]) * 4 + 4);
      img_.push_back(n);
    }
  }

  RpnCfg c_;
  std::vector<LevelHead> lv_;
  double cls_loss_ = 0, loc_loss_ = 0;
  // Scratch reused across calls.
  Tensor all_anchors_, gt_, iou_, ref_, tgt_, enc_, dl_, dec_, cb_, cs_;
  IndexTensor matches_, labels_, pos_, neg_, cl_, keep_;
  std::vector<int> order_, cand_level_, img_;
  std::vector<float> cand_, cand_score_, props_;
};

std::vector<double> doubles(const Section& sec, const std::string& key, const std::vector<float>& def) {
  std::vector<double> v;
  for (float f : sec.get_floats(key, def)) {
    if (!(f > 0) || !std::isfinite(f)) sec.fail_key(key, "every value must be > 0");
    v.push_back(double(f));
  }
  return v;
}

int topk_key(const Section& sec, const std::string& key, int def) {
  const int v = sec.get_int(key, def);
  if (v < 1 || v > 1000000) sec.fail_key(key, "must be in 1..1000000");
  return v;
}

}  // namespace

std::unique_ptr<Layer> make_rpn(const Scope& cfg, const std::vector<Shape>& in, Rng& rng) {
  const Section& sec = cfg.sec;
  RpnCfg c;
  const int L = int(in.size());
  std::vector<float> strides = sec.get_floats("strides", {4, 8, 16, 32, 64});
  if (int(strides.size()) != L)
    sec.fail_key("strides", cat("gives ", strides.size(), " strides for ", L, " input levels (from=)"));
  for (float s : strides)
    if (!(s >= 1 && s <= 4096)) sec.fail_key("strides", "every stride must be in 1..4096");
  c.anchors.strides = strides;
  for (double s : doubles(sec, "anchor_sizes", {32, 64, 128, 256, 512})) c.anchors.sizes.push_back({s});
  c.anchors.aspect_ratios = {doubles(sec, "aspect_ratios", {0.5f, 1.f, 2.f})};
  c.anchors.offset = sec.get_float("anchor_offset", 0.f);
  c.anchors.style = sec.get_choice("anchor_style", "detectron2", {"detectron2", "torchvision"}) == "torchvision"
                        ? AnchorStyle::Torchvision
                        : AnchorStyle::Detectron2;
  c.anchors.validate(sec.where());
  c.matcher.thresholds = sec.get_floats("iou_thresholds", {0.3f, 0.7f});
  if (c.matcher.thresholds.size() != 2) sec.fail_key("iou_thresholds", "needs two values: background below, foreground from");
  c.matcher.labels = {kMatchBackground, kMatchIgnore, kMatchForeground};
  c.matcher.allow_low_quality_matches = sec.get_bool("low_quality_matches", true);
  c.matcher.validate(sec.where());
  c.sampler.batch_per_image = positive_key(sec, "batch_per_image", 256);
  c.sampler.positive_fraction = sec.get_float("positive_fraction", 0.5f);
  if (!(c.sampler.positive_fraction >= 0 && c.sampler.positive_fraction <= 1))
    sec.fail_key("positive_fraction", "must be in [0, 1]");
  c.pre_topk[1] = topk_key(sec, "pre_nms_topk_train", 2000);
  c.pre_topk[0] = topk_key(sec, "pre_nms_topk_test", 1000);
  c.post_topk[1] = topk_key(sec, "post_nms_topk_train", 1000);
  c.post_topk[0] = topk_key(sec, "post_nms_topk_test", 1000);
  c.nms = sec.get_float("nms", 0.7f);
  if (!(c.nms > 0 && c.nms <= 1)) sec.fail_key("nms", "must be in (0, 1]");
  c.min_size = sec.get_float("min_size", 0.f);
  if (!(c.min_size >= 0)) sec.fail_key("min_size", "must be >= 0");
  c.beta = read_box_loss_beta(sec, 0.f);
  c.box_weight = sec.get_float("box_loss_weight", 1.f);
  if (!(c.box_weight >= 0)) sec.fail_key("box_loss_weight", "must be >= 0");

  const int C = in.at(0).c;
  for (int l = 1; l < L; ++l)
    if (in[l].c != C) sec.fail_section(cat("every level needs the same channels: level 0 has ", C, ", level ", l, " ", in[l].c));
  const int A = c.anchors.anchors_per_cell(0);
  for (int l = 1; l < L; ++l)
    if (c.anchors.anchors_per_cell(l) != A)
      sec.fail_section("one head serves every level, so every level needs the same number of anchors");
  ConvSpec conv{positive_key(sec, "filters", C), 3, 1, -1, 1, 1, "relu"};
  ConvSpec cls{A, 1, 1, 0, 1, 1, "linear"}, reg{4 * A, 1, 1, 0, 1, 1, "linear"};
  // The head's conv takes norm= from this section only (none by default, as both peers' RPN heads);
  // the two 1x1 predictors never have a norm.
  const Section plain(sec.type(), sec.file(), sec.line());
  const Scope own{sec, nullptr}, bare{plain, nullptr};
  std::vector<LevelHead> lv(L);
  for (int l = 0; l < L; ++l) {
    lv[l].conv = make_conv_unit(own, C, conv, rng);
    lv[l].cls = make_conv_unit(bare, conv.filters, cls, rng);
    lv[l].reg = make_conv_unit(bare, conv.filters, reg, rng);
  }
  for (Layer* u : {lv[0].conv.get(), lv[0].cls.get(), lv[0].reg.get()}) normal_init(u->params(), 0.01, rng);
  for (int l = 1; l < L; ++l) {
    auto share = [](Layer& owner, Layer& user) {
      std::vector<Param> o = owner.params(), u = user.params();
      for (size_t k = 0; k < o.size(); ++k) {
        u[k].value->share_storage_of(*o[k].value);
        u[k].grad->share_storage_of(*o[k].grad);
      }
    };
    share(*lv[0].conv, *lv[l].conv);
    share(*lv[0].cls, *lv[l].cls);
    share(*lv[0].reg, *lv[l].reg);
  }
  return reshaped(sec, std::make_unique<Rpn>(std::move(c), std::move(lv)), in);
}

}  // namespace mabdet
