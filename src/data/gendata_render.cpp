// Rendering of one synthetic image: background texture and clutter, then shapes painted into a
// label map (later shapes occlude earlier ones), then colours from the label map. Annotations are
// read back from the final label map, so they describe exactly the visible pixels.
#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "mabdet/data/gendata.h"
#include "mabdet/error.h"
#include "mabdet/mask.h"
#include "mabdet/rng.h"

namespace mabdet {
namespace {
constexpr double kPi = 3.14159265358979323846;

// Shape outline as a polygon around (cx, cy) with "radius" r; coordinates rounded to 0.01 px so
// the json holds exactly the numbers that were rasterized.
std::vector<double> shape_polygon(int kind, double cx, double cy, double r, double rot) {
  std::vector<double> radii, angles;
  auto regular = [&](int n, double rr) {
    for (int i = 0; i < n; ++i) {
      radii.push_back(rr);
      angles.push_back(rot + 2 * kPi * i / n);
    }
  };
  switch (kind) {
    case 0: regular(std::max(12, std::min(40, int(r))), r); break;  // circle
    case 1: regular(4, r); break;                                    // square
    case 2: regular(3, r); break;                                    // triangle
    case 3:                                                          // five-pointed star
      for (int i = 0; i < 10; ++i) {
        radii.push_back(i % 2 ? 0.45 * r : r);
        angles.push_back(rot + kPi * i / 5);
      }
      break;
    default: regular(6, r); break;  // hexagon
  }
  std::vector<double> xy;
  for (size_t i = 0; i < radii.size(); ++i) {
    xy.push_back(std::round((cx + radii[i] * std::cos(angles[i])) * 100) / 100);
    xy.push_back(std::round((cy + radii[i] * std::sin(angles[i])) * 100) / 100);
  }
  return xy;
}

struct Object {
  int label;                   // index into gendata_names()
  bool crowd;
  std::vector<std::vector<double>> polys;
  uint64_t full_area = 0;      // pixels before occlusion
  uint8_t color[3];
};

// Column-major mask of the union of polygons (COCO rasterization).
std::vector<uint8_t> raster(const std::vector<std::vector<double>>& polys, int H, int W) {
  std::vector<Rle> parts;
  for (const auto& p : polys) parts.push_back(rle_from_polygon(p.data(), p.size() / 2, uint32_t(H), uint32_t(W)));
  return rle_decode(parts.size() == 1 ? parts[0] : rle_merge(parts));
}

uint8_t clamp8(double v) { return uint8_t(std::clamp(v, 0.0, 255.0)); }
}  // namespace

const std::vector<std::string>& gendata_names() {
  static const std::vector<std::string> names{"circle", "square", "triangle", "star", "hexagon"};
  return names;
}
const std::vector<int>& gendata_category_ids() {
  static const std::vector<int> ids{1, 2, 4, 5, 7};
  return ids;
}

GenImage generate_image(int size, int height, uint64_t seed) {
  Rng rng(seed);
  GenImage out;
  const double hr = rng.uniform(0.75, 1.0);  // drawn either way: --height leaves the rest alike
  const int W = size, H = height > 0 ? height : std::max(16, int(size * hr));
  Image& img = out.img;
  img.w = W;
  img.h = H;
  img.pix.resize(size_t(W) * H * 3);

  // Background: two colours blended by a sinusoidal texture, plus noise.
  double c0[3], c1[3], fx = rng.uniform(0.02, 0.2), fy = rng.uniform(0.02, 0.2), ph = rng.uniform(0, 6.28);
  for (int c = 0; c < 3; ++c) {
    c0[c] = rng.uniform(30, 225);
    c1[c] = rng.uniform(30, 225);
  }
  for (int y = 0; y < H; ++y)
    for (int x = 0; x < W; ++x) {
      double t = 0.5 + 0.5 * std::sin(fx * x + ph) * std::cos(fy * y);
      uint8_t* p = img.row(y) + 3 * x;
      for (int c = 0; c < 3; ++c) p[c] = clamp8(c0[c] * t + c1[c] * (1 - t) + rng.uniform(-5, 5));
    }
  // Clutter: thin line segments (never annotated).
  const int lines = 8 + rng.randint(16);
  for (int l = 0; l < lines; ++l) {
    double x0 = rng.uniform(0, W), y0 = rng.uniform(0, H), a = rng.uniform(0, 2 * kPi), len = rng.uniform(10, W / 3.0);
    uint8_t col[3] = {uint8_t(rng.randint(256)), uint8_t(rng.randint(256)), uint8_t(rng.randint(256))};
    for (double s = 0; s < len; s += 0.5) {
      int x = int(x0 + s * std::cos(a)), y = int(y0 + s * std::sin(a));
      if (x < 0 || y < 0 || x >= W || y >= H) break;
      std::copy(col, col + 3, img.row(y) + 3 * x);
    }
  }

  // Objects painted into the label map (0 = background, k + 1 = object k).
  std::vector<uint16_t> lab(size_t(W) * H, 0);  // column-major, like COCO masks
  std::vector<Object> objs;
  const int want = 2 + rng.randint(7);
  const bool crowd = rng.uniform() < 0.2;
  for (int attempt = 0; attempt < want * 4 && int(objs.size()) < want + int(crowd); ++attempt) {
    Object o;
    o.crowd = crowd && objs.empty() ? true : false;  // the crowd, if any, is painted first
    o.label = rng.randint(int(gendata_names().size()));
    for (int c = 0; c < 3; ++c) o.color[c] = uint8_t(rng.randint(256));
    const double lim = std::min(W, H) / 2.0 - 2;
    if (o.crowd) {
      // A tight cluster of small same-category shapes: one iscrowd region.
      double cx = rng.uniform(24, W - 24.0), cy = rng.uniform(24, H - 24.0);
      for (int k = 0, n = 8 + rng.randint(8); k < n; ++k) {
        double r = rng.uniform(3, 7), x = cx + rng.uniform(-18, 18), y = cy + rng.uniform(-18, 18);
        x = std::clamp(x, r + 1, W - r - 1);
        y = std::clamp(y, r + 1, H - r - 1);
        o.polys.push_back(shape_polygon(o.label, x, y, r, rng.uniform(0, 2 * kPi)));
      }
    } else {
      // Size range: small (area < 32^2), medium, large (> 96^2) as COCO counts them.
      double u = rng.uniform(), r;
      if (u < 0.35) r = rng.uniform(5, 14);
      else if (u < 0.8) r = rng.uniform(20, 45);
      else r = rng.uniform(60, 110);
      r = std::min(r, lim);
      double x = rng.uniform(r + 1, W - r - 1), y = rng.uniform(r + 1, H - r - 1);
      o.polys.push_back(shape_polygon(o.label, x, y, r, rng.uniform(0, 2 * kPi)));
    }
    std::vector<uint8_t> m = raster(o.polys, H, W);
    for (uint8_t v : m) o.full_area += v;
    if (o.full_area < 12) continue;
    // Paint tentatively; keep only if every object stays at least a third visible.
    std::vector<uint16_t> before = lab;
    for (size_t i = 0; i < m.size(); ++i)
      if (m[i]) lab[i] = uint16_t(objs.size() + 1);
    objs.push_back(o);
    std::vector<uint64_t> vis(objs.size() + 1, 0);
    for (uint16_t v : lab) ++vis[v];
    bool ok = true;
    for (size_t k = 0; k < objs.size(); ++k)
      ok &= vis[k + 1] >= std::max<uint64_t>(12, objs[k].full_area / 3);
    if (!ok) {
      lab.swap(before);
      objs.pop_back();
    }
  }

  // Colours from the label map: object colour with a gradient and noise.
  for (int x = 0; x < W; ++x)
    for (int y = 0; y < H; ++y) {
      uint16_t k = lab[size_t(x) * H + y];
      if (!k) continue;
      const Object& o = objs[k - 1];
      double shade = 0.8 + 0.4 * (double(x + y) / (W + H));
      uint8_t* p = img.row(y) + 3 * x;
      for (int c = 0; c < 3; ++c) p[c] = clamp8(o.color[c] * shade + rng.uniform(-4, 4));
    }

  // Annotations from the final label map.
  std::vector<uint8_t> m(lab.size());
  for (size_t k = 0; k < objs.size(); ++k) {
    const Object& o = objs[k];
    uint64_t visible = 0;
    for (size_t i = 0; i < lab.size(); ++i) visible += (m[i] = lab[i] == k + 1);
    Rle r = rle_encode(m.data(), uint32_t(H), uint32_t(W));
    BoxXYWH b = rle_to_bbox(r);
    nlohmann::json a;
    a["category_id"] = gendata_category_ids()[size_t(o.label)];
    a["bbox"] = {b[0], b[1], b[2], b[3]};
    a["area"] = double(visible);
    a["iscrowd"] = o.crowd ? 1 : 0;
    if (!o.crowd && visible == o.full_area) {
      a["segmentation"] = o.polys;  // untouched: its rasterization is exactly the visible mask
    } else if (!o.crowd && k % 2) {
      a["segmentation"] = {{"size", {H, W}}, {"counts", rle_to_string(r)}};
    } else {
      a["segmentation"] = {{"size", {H, W}}, {"counts", r.counts}};
    }
    out.anns.push_back(a.dump());
  }
  return out;
}

}  // namespace mabdet
