#include "mabdet/detector.h"

#include <algorithm>
#include <cmath>

#include "mabdet/cfg.h"
#include "mabdet/error.h"

namespace mabdet {

Detector Detector::from_file(const std::string& cfg_path) {
  Detector d;
  d.path_ = cfg_path;
  std::vector<Section> sections = parse_cfg(cfg_path);
  if (sections.empty() || sections[0].type() != "net") fail(cfg_path, ": the first section must be [net]");
  // Read before the Network checks that every [net] key was used.
  d.aug_ = augment_cfg_from(sections[0]);
  const std::string paste = sections[0].get_str("mask_paste", "detectron2");
  if (paste != "detectron2" && paste != "torchvision") sections[0].fail_key("mask_paste", "must be detectron2 or torchvision");
  d.tv_paste_ = paste == "torchvision";
  d.net_ = std::make_unique<Network>(sections);
  bool rpn = false;
  for (size_t i = 0; i < d.net_->size(); ++i) {
    const std::string t = d.net_->layer(i).type();
    if (t == "rpn") rpn = true;
    if (t == "box_predictor") d.box_layer_ = int(i);
    if (t == "mask_predictor") d.mask_layer_ = int(i);
  }
  if (!rpn || d.box_layer_ < 0)
    fail(cfg_path, ": not a detector cfg (it needs an [rpn] and a [box_predictor] section; see docs/detector.md)");
  for (const Section& s : sections)
    if (s.type() == "box_predictor") d.classes_ = s.has("classes") ? s.get_int("classes") : sections[0].get_int("classes");
  // detect() reads the box and mask predictors alone and training reads nothing but the losses,
  // so every forward keeps only what it needs: `detect` and `map` infer with forward-only memory,
  // and training frees the outputs no backward reads.
  std::vector<size_t> keep{size_t(d.box_layer_)};
  if (d.mask_layer_ >= 0) keep.push_back(size_t(d.mask_layer_));
  d.net_->set_lean_memory(true, keep);
  return d;
}

void paste_mask(const float* mask, int M, const float box[4], int h, int w, float threshold, uint8_t* out) {
  std::fill(out, out + size_t(h) * w, uint8_t(0));
  const double bw = std::max(double(box[2]) - box[0], 1e-6), bh = std::max(double(box[3]) - box[1], 1e-6);
  const int x0 = std::max(0, int(std::floor(box[0]))), x1 = std::min(w, int(std::ceil(box[2])) + 1);
  const int y0 = std::max(0, int(std::floor(box[1]))), y1 = std::min(h, int(std::ceil(box[3])) + 1);
  auto at = [&](int y, int x) { return (y < 0 || y >= M || x < 0 || x >= M) ? 0.f : mask[size_t(y) * M + x]; };
  for (int y = y0; y < y1; ++y) {
    // Pixel centre -> mask coordinates (grid_sample with align_corners=False over the box).
    const double v = (y + 0.5 - box[1]) / bh * M - 0.5;
    for (int x = x0; x < x1; ++x) {
      const double u = (x + 0.5 - box[0]) / bw * M - 0.5;
      const int iu = int(std::floor(u)), iv = int(std::floor(v));
      const double fu = u - iu, fv = v - iv;
      const double p = (1 - fv) * ((1 - fu) * at(iv, iu) + fu * at(iv, iu + 1)) +
                       fv * ((1 - fu) * at(iv + 1, iu) + fu * at(iv + 1, iu + 1));
      out[size_t(y) * w + x] = p >= threshold;
    }
  }
}

void paste_mask_torchvision(const float* mask, int M, const float box[4], int h, int w, float threshold,
                            uint8_t* out) {
  std::fill(out, out + size_t(h) * w, uint8_t(0));
  // expand_masks / expand_boxes: one pixel of zeros around the mask, the box scaled by (M+2)/M.
  const int P = M + 2;
  std::vector<float> padded(size_t(P) * P, 0.f);
  for (int y = 0; y < M; ++y) std::copy(mask + size_t(y) * M, mask + size_t(y + 1) * M, padded.begin() + size_t(y + 1) * P + 1);
  const float scale = float(P) / float(M);
  const float hw = (box[2] - box[0]) * 0.5f * scale, hh = (box[3] - box[1]) * 0.5f * scale;
  const float cx = (box[2] + box[0]) * 0.5f, cy = (box[3] + box[1]) * 0.5f;
  // .to(torch.int32) truncates toward zero.
  const int bx0 = int(cx - hw), by0 = int(cy - hh), bx1 = int(cx + hw), by1 = int(cy + hh);
  const int bw = std::max(bx1 - bx0 + 1, 1), bh = std::max(by1 - by0 + 1, 1);
  // F.interpolate(bilinear, align_corners=False): source = (dst + 0.5) * in/out - 0.5, at least 0.
  auto source = [](int dst, int in, int outn, int& i0, int& i1, float& f) {
    const float s = std::max((float(dst) + 0.5f) * (float(in) / float(outn)) - 0.5f, 0.f);
    i0 = std::min(int(s), in - 1);
    i1 = std::min(i0 + 1, in - 1);
    f = s - float(i0);
  };
  const int x0 = std::max(bx0, 0), x1 = std::min(bx1 + 1, w), y0 = std::max(by0, 0), y1 = std::min(by1 + 1, h);
  for (int y = y0; y < y1; ++y) {
    int v0, v1;
    float fv;
    source(y - by0, P, bh, v0, v1, fv);
    for (int x = x0; x < x1; ++x) {
      int u0, u1;
      float fu;
      source(x - bx0, P, bw, u0, u1, fu);
      const float* r0 = padded.data() + size_t(v0) * P;
      const float* r1 = padded.data() + size_t(v1) * P;
      const float p = (1 - fv) * ((1 - fu) * r0[u0] + fu * r0[u1]) + fv * ((1 - fu) * r1[u0] + fu * r1[u1]);
      out[size_t(y) * w + x] = p > threshold;
    }
  }
}

void Detector::detect(Context& ctx, const Batch& b, std::vector<std::vector<Detection>>& out, bool bitmaps) {
  const bool was = ctx.train;
  ctx.train = false;
  ctx.batch = &b;
  net_->forward(ctx, b.images);
  ctx.train = was;
  const size_t bl = size_t(box_layer_);
  const Tensor& boxes = net_->output(bl, "boxes");
  const Tensor& scores = net_->output(bl, "scores");
  const IndexTensor& image = net_->index_output(bl, "image");
  const IndexTensor& cls = net_->index_output(bl, "classes");
  const Tensor* masks = mask_layer_ >= 0 ? &net_->output(size_t(mask_layer_)) : nullptr;
  out.assign(size_t(b.size()), {});
  std::vector<uint8_t> rowmajor, colmajor;
  for (int d = 0; d < boxes.n(); ++d) {
    const int n = image[d];
    const ResizePlan& plan = b.meta.at(size_t(n)).plan;
    Detection det;
    inverse_transform_box(plan, boxes.data() + size_t(d) * 4, det.box);
    det.score = scores[d];
    det.label = cls[d];
    if (masks && masks->n() == boxes.n()) {
      const int M = masks->h(), h = plan.in_h, w = plan.in_w;
      rowmajor.resize(size_t(h) * w);
      (tv_paste_ ? paste_mask_torchvision : paste_mask)(masks->data() + size_t(d) * M * M, M, det.box, h, w, 0.5f,
                                                        rowmajor.data());
      colmajor.resize(rowmajor.size());
      for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) colmajor[size_t(x) * h + y] = rowmajor[size_t(y) * w + x];
      det.mask = rle_encode(colmajor.data(), uint32_t(h), uint32_t(w));
      det.has_mask = true;
      if (bitmaps) det.bitmap = rowmajor;
    }
    out[size_t(n)].push_back(std::move(det));
  }
}

}  // namespace mabdet
