#include "mabdet/shapes.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "mabdet/rng.h"

namespace mabdet {
namespace {
constexpr double kPi = 3.14159265358979323846;
const char* const kNames[kShapeClasses] = {"circle", "square", "triangle", "pentagon", "hexagon",
                                           "star",   "cross",  "ring",     "ellipse",  "half-disc"};

struct Pt {
  double x, y;
};

bool in_polygon(const std::vector<Pt>& p, double x, double y) {  // even-odd rule
  bool in = false;
  for (size_t i = 0, j = p.size() - 1; i < p.size(); j = i++)
    if ((p[i].y > y) != (p[j].y > y) && x < (p[j].x - p[i].x) * (y - p[i].y) / (p[j].y - p[i].y) + p[i].x) in = !in;
  return in;
}

std::vector<Pt> regular(int n, double r_outer, double r_inner) {  // r_inner > 0: star
  std::vector<Pt> p;
  int k = r_inner > 0 ? 2 * n : n;
  for (int i = 0; i < k; ++i) {
    double a = 2 * kPi * i / k - kPi / 2, r = (r_inner > 0 && i % 2) ? r_inner : r_outer;
    p.push_back({r * std::cos(a), r * std::sin(a)});
  }
  return p;
}

// Is the shape-local point (u, v) (unit radius, centred) inside shape `cls`?
bool inside(int cls, double u, double v, const std::vector<Pt>& poly) {
  double r2 = u * u + v * v;
  switch (cls) {
    case 0: return r2 <= 1.0;
    case 1: return std::fabs(u) <= 0.78 && std::fabs(v) <= 0.78;
    case 6: return (std::fabs(u) <= 1.0 && std::fabs(v) <= 0.32) || (std::fabs(u) <= 0.32 && std::fabs(v) <= 1.0);
    case 7: return r2 <= 1.0 && r2 >= 0.5 * 0.5;
    case 8: return u * u + (v / 0.5) * (v / 0.5) <= 1.0;
    case 9: return r2 <= 1.0 && v >= -0.35;
    default: return in_polygon(poly, u, v);
  }
}

struct Rgb {
  float r, g, b;
};

Rgb random_colour(Rng& rng) { return {float(rng.uniform()), float(rng.uniform()), float(rng.uniform())}; }

float dist(const Rgb& a, const Rgb& b) { return std::fabs(a.r - b.r) + std::fabs(a.g - b.g) + std::fabs(a.b - b.b); }

// `count` thin bars, and with probability `blob_p` each a small blob instead, in random colours.
void draw_clutter(std::vector<Rgb>& img, int size, int count, double blob_p, Rng& rng) {
  for (int k = 0; k < count; ++k) {
    Rgb c = random_colour(rng);
    double cx = rng.uniform(0, size), cy = rng.uniform(0, size), a = rng.uniform(0, kPi);
    double len = rng.uniform(0.15, 0.5) * size, wid = rng.uniform(0.5, 1.5);
    bool blob = rng.uniform() < blob_p;
    for (int y = 0; y < size; ++y)
      for (int x = 0; x < size; ++x) {
        double dx = x + 0.5 - cx, dy = y + 0.5 - cy;
        double along = dx * std::cos(a) + dy * std::sin(a), across = -dx * std::sin(a) + dy * std::cos(a);
        bool hit = blob ? (dx * dx + dy * dy <= wid * wid * 2.5) : (std::fabs(along) <= len / 2 && std::fabs(across) <= wid / 2);
        if (hit) img[size_t(y) * size + x] = c;
      }
  }
}
}  // namespace

const char* shape_class_name(int label) { return label >= 0 && label < kShapeClasses ? kNames[label] : "?"; }

int render_shape_image(uint64_t seed, int64_t index, int size, float* chw) {
  Rng rng(seed * 0x9E3779B97F4A7C15ULL + uint64_t(index) * 0xD1B54A32D192ED03ULL + 1);
  const int cls = rng.randint(kShapeClasses);
  const size_t plane = size_t(size) * size;
  std::vector<Rgb> img(plane);

  // Background: two colours blended along a random direction, plus a faint stripe texture.
  Rgb b0 = random_colour(rng), b1 = random_colour(rng);
  double dir = rng.uniform(0, 2 * kPi), freq = rng.uniform(0.3, 1.2), phase = rng.uniform(0, 2 * kPi);
  for (int y = 0; y < size; ++y)
    for (int x = 0; x < size; ++x) {
      double t = 0.5 + 0.5 * ((x * std::cos(dir) + y * std::sin(dir)) / size);
      double s = 0.06 * std::sin(freq * (x * std::sin(dir) - y * std::cos(dir)) + phase);
      Rgb& p = img[size_t(y) * size + x];
      p.r = float(b0.r * (1 - t) + b1.r * t + s);
      p.g = float(b0.g * (1 - t) + b1.g * t + s);
      p.b = float(b0.b * (1 - t) + b1.b * t + s);
    }
  Rgb bg_mean{(b0.r + b1.r) / 2, (b0.g + b1.g) / 2, (b0.b + b1.b) / 2};

  // Clutter: bars and small blobs behind the shape, then a bar or two across it (partial occlusion).
  draw_clutter(img, size, 3 + rng.randint(5), 0.4, rng);

  // The shape: colour kept away from the background mean so it is always visible.
  Rgb fg = random_colour(rng);
  for (int tries = 0; tries < 16 && dist(fg, bg_mean) < 0.45f; ++tries) fg = random_colour(rng);
  double radius = rng.uniform(0.17, 0.36) * size;
  double cx = rng.uniform(0.5 * size - 0.16 * size, 0.5 * size + 0.16 * size);
  double cy = rng.uniform(0.5 * size - 0.16 * size, 0.5 * size + 0.16 * size);
  double rot = rng.uniform(0, 2 * kPi), ca = std::cos(rot), sa = std::sin(rot);
  std::vector<Pt> poly;
  if (cls == 2) poly = regular(3, 1.0, 0);
  if (cls == 3) poly = regular(5, 1.0, 0);
  if (cls == 4) poly = regular(6, 1.0, 0);
  if (cls == 5) poly = regular(5, 1.0, 0.42);
  for (int y = 0; y < size; ++y)
    for (int x = 0; x < size; ++x) {
      int hits = 0;  // 4x4 supersampling: anti-aliased edges
      for (int sy = 0; sy < 4; ++sy)
        for (int sx = 0; sx < 4; ++sx) {
          double dx = (x + (sx + 0.5) / 4 - cx) / radius, dy = (y + (sy + 0.5) / 4 - cy) / radius;
          hits += inside(cls, dx * ca + dy * sa, -dx * sa + dy * ca, poly);
        }
      if (!hits) continue;
      float w = hits / 16.f;
      Rgb& p = img[size_t(y) * size + x];
      p = {p.r * (1 - w) + fg.r * w, p.g * (1 - w) + fg.g * w, p.b * (1 - w) + fg.b * w};
    }

  draw_clutter(img, size, 1 + rng.randint(2), 0.0, rng);

  for (size_t i = 0; i < plane; ++i) {
    const Rgb& p = img[i];
    float v[3] = {p.r, p.g, p.b};
    for (int c = 0; c < 3; ++c) {
      float noisy = std::clamp(v[c] + float(rng.normal() * 0.05), 0.f, 1.f);
      chw[c * plane + i] = (noisy - 0.5f) / 0.25f;
    }
  }
  return cls;
}

}  // namespace mabdet
