#include "mabdet/data/mask_target.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "mabdet/data/batch.h"
#include "mabdet/error.h"

namespace mabdet {
namespace {
// Source index of output pixel i under nearest resizing (centre rule), in exact integer math:
// floor((i + 0.5) * in / out).
inline int nearest_src(int i, int in, int out) { return std::min(in - 1, int((int64_t(2 * i + 1) * in) / (2 * int64_t(out)))); }

Rle merge_polygons(const std::vector<std::vector<double>>& polys, uint32_t h, uint32_t w) {
  std::vector<Rle> parts;
  for (const auto& p : polys) parts.push_back(rle_from_polygon(p.data(), p.size() / 2, h, w));
  return parts.size() == 1 ? parts[0] : rle_merge(parts);
}

// Polygon path: polygons already in augmented coords.
void polygon_target(const std::vector<std::vector<double>>& polys, const float box[4], int M, float* out) {
  // Box sizes in float, as Detectron2 takes them from its float32 box tensor.
  double w = std::max(double(box[2] - box[0]), 0.1), h = std::max(double(box[3] - box[1]), 0.1);
  double rx = M / w, ry = M / h;
  std::vector<std::vector<double>> local(polys);
  for (auto& p : local)
    for (size_t i = 0; i + 1 < p.size(); i += 2) {
      p[i] = (p[i] - box[0]) * rx;
      p[i + 1] = (p[i + 1] - box[1]) * ry;
    }
  std::vector<uint8_t> cm = rle_decode(merge_polygons(local, uint32_t(M), uint32_t(M)));
  for (int y = 0; y < M; ++y)
    for (int x = 0; x < M; ++x) out[size_t(y) * M + x] = cm[size_t(x) * M + y];
}

// RLE path: `orig` is the decoded original mask (column-major, p.in_h x p.in_w).
void bitmask_target(const std::vector<uint8_t>& orig, const ResizePlan& p, const float box[4], int M, float* out) {
  const int H = p.out_h, W = p.out_w;
  // Pixel (iy, ix) of the resized, flipped bitmask, read from the original (nearest, centre rule).
  auto aug = [&](int iy, int ix) -> float {
    int sx = p.flip ? W - 1 - ix : ix;
    int ox = nearest_src(sx, p.in_w, W), oy = nearest_src(iy, p.in_h, H);
    return orig[size_t(ox) * p.in_h + size_t(oy)];
  };
  // RoIAlign's bilinear sample with its border rules (zero outside [-1, size], clamp inside).
  auto sample = [&](double y, double x) -> double {
    if (y < -1.0 || y > H || x < -1.0 || x > W) return 0;
    y = std::max(y, 0.0);
    x = std::max(x, 0.0);
    int y0 = int(y), x0 = int(x), y1, x1;
    if (y0 >= H - 1) { y1 = y0 = H - 1; y = y0; } else { y1 = y0 + 1; }
    if (x0 >= W - 1) { x1 = x0 = W - 1; x = x0; } else { x1 = x0 + 1; }
    double ly = y - y0, lx = x - x0, hy = 1 - ly, hx = 1 - lx;
    return hy * hx * aug(y0, x0) + hy * lx * aug(y0, x1) + ly * hx * aug(y1, x0) + ly * lx * aug(y1, x1);
  };
  const double x0 = box[0] - 0.5, y0 = box[1] - 0.5;  // aligned: half-pixel shift
  const double bw = (double(box[2]) - box[0]) / M, bh = (double(box[3]) - box[1]) / M;
  const int gw = std::max(1, int(std::ceil((double(box[2]) - box[0]) / M)));
  const int gh = std::max(1, int(std::ceil((double(box[3]) - box[1]) / M)));
  for (int i = 0; i < M; ++i)
    for (int j = 0; j < M; ++j) {
      double acc = 0;
      for (int a = 0; a < gh; ++a)
        for (int b = 0; b < gw; ++b)
          acc += sample(y0 + i * bh + (a + 0.5) * bh / gh, x0 + j * bw + (b + 0.5) * bw / gw);
      out[size_t(i) * M + j] = acc / (gh * gw) >= 0.5 ? 1.f : 0.f;
    }
}

std::vector<std::vector<double>> transformed(const GtMask& m, const ResizePlan& p) {
  std::vector<std::vector<double>> polys(m.polygons.size());
  for (size_t i = 0; i < polys.size(); ++i) transform_polygon(p, m.polygons[i], polys[i]);
  return polys;
}
}  // namespace

// Here rather than in augment.cpp: this file is built without FMA contraction (see Makefile), so
// x * s and W - x * s round as in Detectron2's numpy.
void transform_polygon(const ResizePlan& p, const std::vector<double>& in, std::vector<double>& out) {
  const double sx = double(p.out_w) / p.in_w, sy = double(p.out_h) / p.in_h;
  out.resize(in.size());
  for (size_t i = 0; i + 1 < in.size(); i += 2) {
    double x = in[i] * sx;
    out[i] = p.flip ? p.out_w - x : x;
    out[i + 1] = in[i + 1] * sy;
  }
}

Rle gt_mask_rle(const GtMask& m, int h, int w) {
  switch (m.kind) {
    case GtMask::Kind::Polygons: return merge_polygons(m.polygons, uint32_t(h), uint32_t(w));
    case GtMask::Kind::Rle:
      if (!m.compressed.empty()) return rle_from_string(m.compressed, uint32_t(m.h), uint32_t(m.w));
      return Rle{uint32_t(m.h), uint32_t(m.w), m.counts};
    case GtMask::Kind::None: break;
  }
  fail("annotation has no segmentation (loaded with masks off, or none in the json)");
}

std::vector<uint8_t> render_mask(const GtMask& m, const ResizePlan& p) {
  std::vector<uint8_t> out(size_t(p.out_h) * p.out_w);
  if (m.kind == GtMask::Kind::Polygons) {
    std::vector<uint8_t> cm = rle_decode(merge_polygons(transformed(m, p), uint32_t(p.out_h), uint32_t(p.out_w)));
    for (int y = 0; y < p.out_h; ++y)
      for (int x = 0; x < p.out_w; ++x) out[size_t(y) * p.out_w + x] = cm[size_t(x) * p.out_h + y];
    return out;
  }
  std::vector<uint8_t> orig = rle_decode(gt_mask_rle(m, p.in_h, p.in_w));
  for (int y = 0; y < p.out_h; ++y)
    for (int x = 0; x < p.out_w; ++x) {
      int sx = p.flip ? p.out_w - 1 - x : x;
      int ox = nearest_src(sx, p.in_w, p.out_w), oy = nearest_src(y, p.in_h, p.out_h);
      out[size_t(y) * p.out_w + x] = orig[size_t(ox) * p.in_h + size_t(oy)];
    }
  return out;
}

void mask_target(const GtMask& m, const ResizePlan& p, const float box[4], int M, float* out) {
  if (m.kind == GtMask::Kind::Polygons) return polygon_target(transformed(m, p), box, M, out);
  bitmask_target(rle_decode(gt_mask_rle(m, p.in_h, p.in_w)), p, box, M, out);
}

void mask_targets(const Targets& t, const ResizePlan& p, const float* boxes, const int* gt_index, int n, int M,
                  float* out) {
  std::map<int, std::vector<uint8_t>> decoded;  // RLE ground truths decoded so far
  for (int i = 0; i < n; ++i) {
    int g = gt_index[i];
    MABDET_ASSERT(g >= 0 && g < int(t.masks.size()), "gt index ", g, " of ", t.masks.size(), " masks");
    const GtMask& m = t.masks[size_t(g)];
    if (m.empty()) fail("annotation id ", t.ann_ids[size_t(g)], " has no segmentation, but mask targets were asked for");
    float* o = out + size_t(i) * M * M;
    if (m.kind == GtMask::Kind::Polygons) {
      polygon_target(transformed(m, p), boxes + 4 * i, M, o);
      continue;
    }
    auto it = decoded.find(g);
    if (it == decoded.end()) it = decoded.emplace(g, rle_decode(gt_mask_rle(m, p.in_h, p.in_w))).first;
    bitmask_target(it->second, p, boxes + 4 * i, M, o);
  }
}

}  // namespace mabdet
