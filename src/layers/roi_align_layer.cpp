// [roi_align] from=ROIS,ROIS:image,p2,p3,p4,p5: the multi-level RoI pooler (Detectron2's ROIPooler
// with ROIAlignV2, torchvision's MultiScaleRoIAlign). Each RoI is pooled from one level, chosen by
// its scale (canonical_size pixels at canonical_level; LevelMapper), into output x output bins.
// The features get the gradient of the bins their RoIs were pooled into; the RoIs get none. Zero
// RoIs give an empty (0, C, output, output) output.
#include <cmath>

#include "layers/factories.h"
#include "layers/factory_util.h"
#include "mabdet/detect/level_mapper.h"
#include "mabdet/detect/roi_align.h"

namespace mabdet {
namespace {

using namespace detect;

class RoiAlignLayer : public Layer {
 public:
  RoiAlignLayer(RoIAlignParams p, LevelMapper mapper, std::vector<float> strides)
      : p_(p), mapper_(mapper), strides_(std::move(strides)) {}
  std::string type() const override { return "roi_align"; }
  void to(Device d) override { host_only(d); }
  std::string filters_str() const override { return cat(strides_.size(), "lv"); }
  std::string size_str() const override { return cat(p_.pooled_h, "x", p_.pooled_w, " s", p_.sampling_ratio); }

  Shape reshape(const std::vector<Shape>& in) override {
    if (in.size() != strides_.size() + 1) fail("roi_align: ", in.size() - 1, " feature levels for ", strides_.size(), " strides");
    if (in[0].c != 4) fail("roi_align: the RoIs must be (R, 4), got ", in[0].str());
    const int C = in[1].c;
    for (size_t l = 2; l < in.size(); ++l)
      if (in[l].c != C) fail("roi_align: level ", l - 1, " has ", in[l].c, " channels, level 0 ", C);
    return Shape{in[0].n, C, p_.pooled_h, p_.pooled_w};
  }

  void forward(Context& ctx, const Inputs& in, Tensor& out) override {
    if (in.index.size() != 1) fail("roi_align: needs the RoIs' image index (from=ROIS,ROIS:image,...)");
    const Tensor& rois = *in[0];
    const IndexTensor& image = *in.index[0];
    if (image.size() != size_t(rois.n())) fail("roi_align: ", rois.n(), " RoIs, ", image.size(), " image indices");
    const int L = int(strides_.size());
    if (L == 1) {
      level_.reshape(rois.n(), 1);
      level_.zero();
    } else {
      mapper_.assign(rois, level_);
    }
    for (size_t r = 0; r < image.size(); ++r)
      if (image[r] < 0 || image[r] >= in[1]->n()) fail("roi_align: RoI ", r, " names image ", image[r], " of ", in[1]->n());
    rows_.assign(L, {});
    for (int r = 0; r < rois.n(); ++r) rows_[level_[r]].push_back(r);
    const size_t per = size_t(out.c()) * p_.pooled_h * p_.pooled_w;
    for (int l = 0; l < L; ++l) {
      if (rows_[l].empty()) continue;
      gather(rois, image, rows_[l]);
      RoIAlignParams p = p_;
      p.spatial_scale = 1.f / strides_[l];
      roi_align(*in[1 + l], boxes_, img_, p, pooled_);
      for (size_t j = 0; j < rows_[l].size(); ++j)
        std::copy(pooled_.data() + j * per, pooled_.data() + (j + 1) * per, out.data() + size_t(rows_[l][j]) * per);
    }
  }

  void backward(Context& ctx, const Inputs& in, const Tensor& out, const Tensor& dout, const InputGrads& din) override {
    const size_t per = size_t(out.c()) * p_.pooled_h * p_.pooled_w;
    for (size_t l = 0; l < strides_.size(); ++l) {
      Tensor* g = din.size() > l + 1 ? din[l + 1] : nullptr;
      if (!g || rows_[l].empty()) continue;
      gather(*in[0], *in.index[0], rows_[l]);
      pooled_.reshape(int(rows_[l].size()), out.c(), p_.pooled_h, p_.pooled_w);
      for (size_t j = 0; j < rows_[l].size(); ++j)
        std::copy(dout.data() + size_t(rows_[l][j]) * per, dout.data() + size_t(rows_[l][j] + 1) * per,
                  pooled_.data() + j * per);
      RoIAlignParams p = p_;
      p.spatial_scale = 1.f / strides_[l];
      roi_align_backward(pooled_, boxes_, img_, p, *g);
    }
  }

 private:
  void gather(const Tensor& rois, const IndexTensor& image, const std::vector<int>& rows) {
    boxes_.reshape(int(rows.size()), 4);
    img_.reshape(int(rows.size()), 1);
    for (size_t j = 0; j < rows.size(); ++j) {
      std::copy(rois.data() + size_t(rows[j]) * 4, rois.data() + size_t(rows[j]) * 4 + 4, boxes_.data() + j * 4);
      img_[j] = image[rows[j]];
    }
  }

  RoIAlignParams p_;
  LevelMapper mapper_;
  std::vector<float> strides_;
  IndexTensor level_, img_;
  std::vector<std::vector<int>> rows_;
  Tensor boxes_, pooled_;
};

}  // namespace

std::unique_ptr<Layer> make_roi_align(const Scope& cfg, const std::vector<Shape>& in, Rng& rng) {
  const Section& sec = cfg.sec;
  RoIAlignParams p;
  p.pooled_h = p.pooled_w = positive_key(sec, "output", 7);
  p.sampling_ratio = sec.get_int("sampling_ratio", 0);
  if (p.sampling_ratio < 0 || p.sampling_ratio > 64) sec.fail_key("sampling_ratio", "must be in 0..64 (0: adaptive)");
  p.aligned = sec.get_bool("aligned", true);
  const int L = int(in.size()) - 1;
  std::vector<float> def;
  for (int l = 0; l < L; ++l) def.push_back(float(4 << l));
  std::vector<float> strides = sec.get_floats("strides", def);
  if (int(strides.size()) != L) sec.fail_key("strides", cat("gives ", strides.size(), " strides for ", L, " feature levels"));
  LevelMapper m;
  const double lv0 = std::log2(strides[0]);
  for (int l = 0; l < L; ++l)
    if (!(strides[l] >= 1) || std::fabs(std::log2(strides[l]) - (lv0 + l)) > 1e-6)
      sec.fail_key("strides", "must be powers of two doubling level by level (4,8,16,32)");
  m.min_level = int(std::lround(lv0));
  m.max_level = m.min_level + L - 1;
  m.canonical_size = sec.get_float("canonical_size", 224.f);
  if (!(m.canonical_size > 0)) sec.fail_key("canonical_size", "must be > 0");
  m.canonical_level = sec.get_int("canonical_level", 4);
  m.style = sec.get_choice("level_style", "detectron2", {"detectron2", "torchvision"}) == "detectron2"
                ? LevelStyle::Detectron2
                : LevelStyle::Torchvision;
  return reshaped(sec, std::make_unique<RoiAlignLayer>(p, m, strides), in);
}

}  // namespace mabdet
