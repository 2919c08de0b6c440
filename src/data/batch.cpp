#include "mabdet/data/batch.h"

#include <algorithm>
#include <cstring>

#include "mabdet/error.h"

namespace mabdet {

Targets build_targets(const ImageRecord& rec, const ResizePlan& plan, bool keep_masks) {
  Targets t;
  for (const Annotation& a : rec.anns) {
    float b[4];
    transform_box(plan, a.box, b);
    // Boxes that clipping leaves empty (annotations outside the image) cannot be targets.
    if (!a.crowd && !(b[2] - b[0] > 1e-5f && b[3] - b[1] > 1e-5f)) continue;
    auto& boxes = a.crowd ? t.crowd_boxes : t.boxes;
    boxes.insert(boxes.end(), b, b + 4);
    (a.crowd ? t.crowd_labels : t.labels).push_back(a.label);
    if (!a.crowd) t.ann_ids.push_back(a.id);
    if (keep_masks) (a.crowd ? t.crowd_masks : t.masks).push_back(a.mask);
  }
  return t;
}

namespace {
// Padded batch size for these plans: the largest image, rounded up to size_divisibility.
void shape_batch(const std::vector<ResizePlan>& plans, const AugmentCfg& cfg, Batch& out) {
  const int n = int(plans.size()), div = cfg.size_divisibility;
  int H = 0, W = 0;
  for (const ResizePlan& p : plans) {
    H = std::max(H, p.out_h);
    W = std::max(W, p.out_w);
  }
  H = (H + div - 1) / div * div;
  W = (W + div - 1) / div * div;
  out.images.reshape(n, 3, H, W);
  out.meta.resize(size_t(n));
  out.targets.resize(size_t(n));
}

// Image i of the batch: resized and normalized into its slot, the padding zeroed.
void place_image(const Image& img, const ResizePlan& p, const AugmentCfg& cfg, int i, Batch& out,
                 std::vector<float>& scratch) {
  const int H = out.images.h(), W = out.images.w();
  const size_t plane = size_t(H) * W;
  float* base = out.images.data() + size_t(i) * 3 * plane;
  resize_normalize(img, p, cfg, base, plane, W, scratch);
  // Zero only the padding: the image area was just written.
  for (int c = 0; c < 3; ++c) {
    float* pl = base + size_t(c) * plane;
    if (p.out_w < W)
      for (int y = 0; y < p.out_h; ++y) std::memset(pl + size_t(y) * W + p.out_w, 0, sizeof(float) * size_t(W - p.out_w));
    std::memset(pl + size_t(p.out_h) * W, 0, sizeof(float) * size_t(H - p.out_h) * W);
  }
}
}  // namespace

void assemble_batch(const CocoDataset& ds, const std::vector<int64_t>& indices, const std::vector<ResizePlan>& plans,
                    const AugmentCfg& cfg, bool keep_masks, Batch& out, std::vector<float>& scratch) {
  MABDET_ASSERT(indices.size() == plans.size() && !indices.empty());
  shape_batch(plans, cfg, out);
  for (int i = 0; i < int(indices.size()); ++i) {
    const ImageRecord& rec = ds.images[size_t(indices[size_t(i)])];
    const ResizePlan& p = plans[size_t(i)];
    Image img = decode_image(rec.file);
    if (img.w != rec.width || img.h != rec.height)
      fail(rec.file, ": image is ", img.w, "x", img.h, " but ", ds.json_path, " says ", rec.width, "x", rec.height,
           " (image id ", rec.id, ")");
    place_image(img, p, cfg, i, out, scratch);
    out.meta[size_t(i)] = ImageMeta{rec.id, indices[size_t(i)], p};
    out.targets[size_t(i)] = build_targets(rec, p, keep_masks);
  }
}

void image_batch(const Image& img, const AugmentCfg& cfg, Batch& out, std::vector<float>& scratch) {
  const ResizePlan p = plan_resize(img.w, img.h, cfg.test_size, cfg.max_size, false);
  shape_batch({p}, cfg, out);
  place_image(img, p, cfg, 0, out, scratch);
  out.meta[0] = ImageMeta{0, 0, p};
  out.targets[0] = Targets{};
}

}  // namespace mabdet
