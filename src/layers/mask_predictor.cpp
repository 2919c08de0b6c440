// [mask_predictor] from=FEATURES,BOX,BOX:image,BOX:classes,BOX:gt: the mask head's last layer
// (Detectron2's MaskRCNNConvUpsampleHead predictor + mask_rcnn_loss): a 1x1 conv to one M x M
// logit map per class, of which each RoI uses its class's. Training (RoIs = the box head's
// positives): binary cross-entropy against the RoI's ground-truth mask cropped and resized to
// M x M (src/data/mask_target), averaged over every pixel of every RoI. Inference (RoIs = the
// detections): port 0 holds each detection's mask probabilities (D, 1, M, M).
#include <cmath>

#include "layers/det_common.h"
#include "layers/factories.h"
#include "layers/factory_util.h"
#include "mabdet/data/mask_target.h"
#include "mabdet/ops.h"

namespace mabdet {
namespace {

class MaskPredictor : public Layer {
 public:
  MaskPredictor(int classes, int in_c, Rng& rng) : K_(classes), C_(in_c) {
    w_.reshape(K_, C_);
    dw_.reshape(K_, C_);
    dw_.zero();
    for (size_t i = 0; i < w_.size(); ++i) w_[i] = float(0.001 * rng.normal());  // Detectron2's init
    for (auto* b : {&b_, &db_}) {
      b->reshape(1, K_);
      b->zero();
    }
  }
  std::string type() const override { return "mask_predictor"; }
  void to(Device d) override { host_only(d); }
  std::string filters_str() const override { return cat(K_); }
  std::string size_str() const override { return "1x1/1"; }
  bool is_loss() const override { return true; }
  double loss() const override { return loss_; }
  std::vector<LossTerm> loss_terms() const override { return {{"mask", loss_}}; }

  Shape reshape(const std::vector<Shape>& in) override {
    const Shape& s = in.at(0);
    if (s.c != C_) fail("mask_predictor: input has ", s.c, " channels, built for ", C_);
    if (s.h != s.w) fail("mask_predictor: the mask features must be square, got ", s.str());
    if (in.at(1).c != 4 || in[1].n != s.n) fail("mask_predictor: boxes ", in[1].str(), " for features ", s.str());
    return Shape{s.n, 1, s.h, s.w};
  }

  void forward(Context& ctx, const Inputs& in, Tensor& out) override {
    if (in.index.size() != 3) fail("mask_predictor: needs from=FEATURES,BOX,BOX:image,BOX:classes,BOX:gt");
    const Tensor& x = *in[0];
    const IndexTensor& cls = *in.index[1];
    const int R = x.n(), M = x.h();
    const size_t mm = size_t(M) * M;
    if (cls.size() != size_t(R)) fail("mask_predictor: ", R, " RoIs, ", cls.size(), " classes");
    // Only each RoI's own class map is ever read, so only that row of the 1x1 conv is computed.
    for (int r = 0; r < R; ++r) {
      const int k = cls[r];
      if (k < 0 || k >= K_) fail("mask_predictor: RoI ", r, " has class ", k, " of ", K_);
      float* o = out.data() + size_t(r) * mm;
      std::fill(o, o + mm, b_[k]);
      ops::gemm(Device::CPU, false, false, 1, int(mm), C_, 1.f, w_.data() + size_t(k) * C_, C_,
                x.data() + size_t(r) * C_ * mm, int(mm), 1.f, o, int(mm));
    }
    loss_ = 0;
    if (!ctx.train) {
      for (size_t i = 0; i < out.size(); ++i) out[i] = 1.f / (1.f + std::exp(-out[i]));
      return;
    }
    const Batch& b = train_batch(ctx, "mask_predictor", ctx.batch ? ctx.batch->size() : 0);
    const IndexTensor &image = *in.index[0], &gt = *in.index[2];
    const Tensor& boxes = *in[1];
    target_.reshape(R, 1, M, M);
    for (int n = 0; n < b.size(); ++n) {
      rows_of_image(image, n, rows_);
      if (rows_.empty()) continue;
      const Targets& t = b.targets[n];
      if (t.masks.size() != size_t(t.size())) fail("mask_predictor: image ", n, " has no ground-truth masks (load masks)");
      box_.resize(rows_.size() * 4);
      gi_.resize(rows_.size());
      for (size_t j = 0; j < rows_.size(); ++j) {
        std::copy(boxes.data() + size_t(rows_[j]) * 4, boxes.data() + size_t(rows_[j]) * 4 + 4, box_.data() + j * 4);
        gi_[j] = gt[rows_[j]];
        if (gi_[j] < 0 || gi_[j] >= t.size()) fail("mask_predictor: RoI ", rows_[j], " names ground truth ", gi_[j]);
      }
      tmp_.resize(rows_.size() * mm);
      mask_targets(t, b.meta[n].plan, box_.data(), gi_.data(), int(rows_.size()), M, tmp_.data());
      for (size_t j = 0; j < rows_.size(); ++j)
        std::copy(tmp_.begin() + j * mm, tmp_.begin() + (j + 1) * mm, target_.data() + size_t(rows_[j]) * mm);
    }
    // Mean over every pixel of every RoI, weighted by the sub-batch's share of the step's images.
    const float scale = R ? ctx.loss_scale * float(b.size()) / float(size_t(R) * mm) : 0.f;
    dlogit_.reshape(R, 1, M, M);
    for (size_t i = 0; i < out.size(); ++i) {
      float g;
      loss_ += double(scale) * bce_logits(out[i], target_[i], g);
      dlogit_[i] = scale * g;
    }
  }

  void backward(Context& ctx, const Inputs& in, const Tensor& out, const Tensor& dout, const InputGrads& din) override {
    if (!ctx.train) return;
    const Tensor& x = *in[0];
    const IndexTensor& cls = *in.index[1];
    const int R = x.n(), M = x.h();
    const size_t mm = size_t(M) * M;
    Tensor* dx = din.empty() ? nullptr : din[0];
    for (int r = 0; r < R; ++r) {
      const int k = cls[r];
      const float* g = dlogit_.data() + size_t(r) * mm;
      double s = 0;
      for (size_t i = 0; i < mm; ++i) s += g[i];
      db_[k] += float(s);
      const float* xr = x.data() + size_t(r) * C_ * mm;
      ops::gemm(Device::CPU, false, true, 1, C_, int(mm), 1.f, g, int(mm), xr, int(mm), 1.f, dw_.data() + size_t(k) * C_, C_);
      if (dx)
        ops::gemm(Device::CPU, true, false, C_, int(mm), 1, 1.f, w_.data() + size_t(k) * C_, C_, g, int(mm), 1.f,
                  dx->data() + size_t(r) * C_ * mm, int(mm));
    }
  }

  std::vector<Param> params() override {
    return {{"weights", &w_, &dw_, 1.f, 1.f}, {"bias", &b_, &db_, 1.f, 0.f}};
  }

 private:
  int K_, C_;
  Tensor w_, dw_, b_, db_;  // (K, C) 1x1 conv, (K) bias
  Tensor target_, dlogit_;
  double loss_ = 0;
  std::vector<int> rows_, gi_;
  std::vector<float> box_, tmp_;
};

}  // namespace

std::unique_ptr<Layer> make_mask_predictor(const Scope& cfg, const std::vector<Shape>& in, Rng& rng) {
  return reshaped(cfg.sec, std::make_unique<MaskPredictor>(classes_key(cfg), in.at(0).c, rng), in);
}

}  // namespace mabdet
