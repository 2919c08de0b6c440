#include "mabdet/data/augment.h"

#include <algorithm>
#include <cmath>

#include "mabdet/cfg.h"
#include "mabdet/error.h"
#include "mabdet/rng.h"

namespace mabdet {

AugmentCfg augment_cfg_from(const Section& net) {
  AugmentCfg c;
  c.min_sizes = net.get_ints("min_size", c.min_sizes);
  c.max_size = net.get_int("max_size", c.max_size);
  c.test_size = net.get_int("test_size", c.test_size);
  c.flip_prob = net.get_float("flip", c.flip_prob);
  std::vector<float> mean = net.get_floats("mean", {c.mean[0], c.mean[1], c.mean[2]});
  std::vector<float> sd = net.get_floats("std", {c.std[0], c.std[1], c.std[2]});
  c.size_divisibility = net.get_int("size_divisibility", c.size_divisibility);
  if (c.min_sizes.empty()) net.fail_key("min_size", "needs at least one size");
  for (int s : c.min_sizes)
    if (s <= 0) net.fail_key("min_size", "sizes must be positive");
  if (c.max_size <= 0) net.fail_key("max_size", "must be positive");
  if (c.test_size <= 0) net.fail_key("test_size", "must be positive");
  if (!(c.flip_prob >= 0 && c.flip_prob <= 1)) net.fail_key("flip", "a probability in [0, 1]");
  if (mean.size() != 3) net.fail_key("mean", "needs 3 values (R,G,B)");
  if (sd.size() != 3) net.fail_key("std", "needs 3 values (R,G,B)");
  for (int i = 0; i < 3; ++i) {
    if (!(sd[size_t(i)] > 0)) net.fail_key("std", "values must be positive");
    c.mean[i] = mean[size_t(i)];
    c.std[i] = sd[size_t(i)];
  }
  if (c.size_divisibility < 1) net.fail_key("size_divisibility", "must be >= 1");
  return c;
}

ResizePlan plan_resize(int w, int h, int short_side, int max_size, bool flip) {
  MABDET_ASSERT(w > 0 && h > 0 && short_side > 0 && max_size > 0);
  double scale = double(short_side) / std::min(w, h);
  double nh = h * scale, nw = w * scale;
  if (std::max(nh, nw) > max_size) {
    double s = max_size / std::max(nh, nw);
    nh *= s;
    nw *= s;
  }
  ResizePlan p;
  p.in_w = w;
  p.in_h = h;
  p.out_w = std::max(1, int(nw + 0.5));
  p.out_h = std::max(1, int(nh + 0.5));
  p.sx = float(double(p.out_w) / w);
  p.sy = float(double(p.out_h) / h);
  p.flip = flip;
  return p;
}

ResizePlan plan_augment(int w, int h, const AugmentCfg& cfg, bool train, Rng& rng) {
  if (!train) return plan_resize(w, h, cfg.test_size, cfg.max_size, false);
  // Draw both numbers unconditionally so the stream does not depend on the list's length.
  int s = cfg.min_sizes[size_t(rng.randint(int(cfg.min_sizes.size())))];
  bool flip = rng.uniform() < cfg.flip_prob;
  return plan_resize(w, h, s, cfg.max_size, flip);
}

// Scales in double from the integer sizes (as Detectron2 maps float64 coordinates), so boxes and
// polygons land where the pixels do however large the image.
void transform_box(const ResizePlan& p, const float in[4], float out[4]) {
  const double sx = double(p.out_w) / p.in_w, sy = double(p.out_h) / p.in_h;
  double x1 = in[0] * sx, x2 = in[2] * sx;
  if (p.flip) {
    double t = p.out_w - x2;
    x2 = p.out_w - x1;
    x1 = t;
  }
  out[0] = float(std::clamp(x1, 0.0, double(p.out_w)));
  out[1] = float(std::clamp(in[1] * sy, 0.0, double(p.out_h)));
  out[2] = float(std::clamp(x2, 0.0, double(p.out_w)));
  out[3] = float(std::clamp(in[3] * sy, 0.0, double(p.out_h)));
}

void inverse_transform_box(const ResizePlan& p, const float in[4], float out[4]) {
  const double sx = double(p.in_w) / p.out_w, sy = double(p.in_h) / p.out_h;
  double x1 = in[0], x2 = in[2];
  if (p.flip) {
    double t = p.out_w - x2;
    x2 = p.out_w - x1;
    x1 = t;
  }
  out[0] = float(std::clamp(x1 * sx, 0.0, double(p.in_w)));
  out[1] = float(std::clamp(in[1] * sy, 0.0, double(p.in_h)));
  out[2] = float(std::clamp(x2 * sx, 0.0, double(p.in_w)));
  out[3] = float(std::clamp(in[3] * sy, 0.0, double(p.in_h)));
}

namespace {
// Separable resampling taps for one axis: output i reads `count` inputs from `first`, weighted.
// Triangle filter widened by the shrink factor (so shrinking averages instead of aliasing),
// centres at half pixels: the PIL/torchvision "bilinear, antialias" convention.
struct Taps {
  std::vector<int> first, count;
  std::vector<float> w;  // count entries per output, padded to `max`
  int max = 0;
};

Taps make_taps(int in, int out) {
  Taps t;
  double scale = double(in) / out, support = std::max(1.0, scale);
  t.max = int(std::ceil(support)) * 2 + 1;
  t.first.resize(size_t(out));
  t.count.resize(size_t(out));
  t.w.assign(size_t(out) * t.max, 0.f);
  for (int i = 0; i < out; ++i) {
    double c = (i + 0.5) * scale;
    int lo = std::max(0, int(std::floor(c - support)));
    int hi = std::min(in, int(std::ceil(c + support)));
    double sum = 0;
    std::vector<double> ws;
    for (int x = lo; x < hi; ++x) {
      double d = std::fabs((x + 0.5 - c) / support);
      double v = d < 1 ? 1 - d : 0;
      ws.push_back(v);
      sum += v;
    }
    // Trim zero-weight ends so the inner loops run only over real taps.
    int a = 0, b = int(ws.size());
    while (a < b && ws[size_t(a)] == 0) ++a;
    while (b > a && ws[size_t(b - 1)] == 0) --b;
    MABDET_ASSERT(b > a && b - a <= t.max && sum > 0);
    t.first[size_t(i)] = lo + a;
    t.count[size_t(i)] = b - a;
    for (int k = a; k < b; ++k) t.w[size_t(i) * t.max + size_t(k - a)] = float(ws[size_t(k)] / sum);
  }
  return t;
}
// One row: output x = sum of N taps (N = 0: the table's full width) of the widened source row.
template <int N>
void hpass(const float* in, const Taps& t, int W, bool flip, float* o) {
  const int n = N ? N : t.max;
  for (int x = 0; x < W; ++x) {
    const float* wt = &t.w[size_t(x) * t.max];
    const float* px = in + size_t(t.first[size_t(x)]) * 3;
    float a = 0, b = 0, c = 0;
    for (int k = 0; k < n; ++k, px += 3) {
      a += wt[k] * px[0];
      b += wt[k] * px[1];
      c += wt[k] * px[2];
    }
    float* d = o + size_t(flip ? W - 1 - x : x) * 3;
    d[0] = a;
    d[1] = b;
    d[2] = c;
  }
}
}  // namespace

void resize_normalize(const Image& src, const ResizePlan& p, const AugmentCfg& cfg, float* dst, size_t plane,
                      int stride, std::vector<float>& scratch) {
  MABDET_ASSERT(src.w == p.in_w && src.h == p.in_h, "image ", src.w, "x", src.h, " vs plan ", p.in_w, "x", p.in_h);
  const int W = p.out_w, H = p.out_h;
  Taps tx = make_taps(src.w, W), ty = make_taps(src.h, H);
  // Horizontal pass over only the source rows the vertical taps use: tmp row r = resized row r.
  // Each source row is widened to float with zero pixels after it, so every output reads a fixed
  // number of taps (the extra ones weigh 0) and the common 2-tap case compiles to straight code.
  scratch.resize(size_t(src.h) * W * 3);
  std::vector<char> done(size_t(src.h), 0);
  int taps = 0;
  for (int c : tx.count) taps = std::max(taps, c);
  const int fixed = taps <= 2 ? 2 : tx.max;  // tx.max: the weight table's stride
  std::vector<float> row(size_t(src.w + fixed) * 3, 0.f);
  float* tmp = scratch.data();
  for (int y = 0; y < H; ++y)
    for (int k = 0; k < ty.count[size_t(y)]; ++k) {
      int r = ty.first[size_t(y)] + k;
      if (done[size_t(r)]) continue;
      done[size_t(r)] = 1;
      const uint8_t* in = src.row(r);
      for (int i = 0; i < src.w * 3; ++i) row[size_t(i)] = in[i];
      float* o = tmp + size_t(r) * W * 3;
      if (fixed == 2) hpass<2>(row.data(), tx, W, p.flip, o);
      else hpass<0>(row.data(), tx, W, p.flip, o);
    }
  float inv[3], off[3];
  for (int c = 0; c < 3; ++c) {
    inv[c] = 1.f / cfg.std[c];
    off[c] = -cfg.mean[c] * inv[c];
  }
  std::vector<float> acc(size_t(W) * 3);
  for (int y = 0; y < H; ++y) {
    std::fill(acc.begin(), acc.end(), 0.f);
    const float* wt = &ty.w[size_t(y) * ty.max];
    for (int k = 0; k < ty.count[size_t(y)]; ++k) {
      const float* row = tmp + size_t(ty.first[size_t(y)] + k) * W * 3;
      float wk = wt[k];
      for (int i = 0; i < W * 3; ++i) acc[size_t(i)] += wk * row[i];
    }
    float* d0 = dst + size_t(y) * stride;
    float* d1 = d0 + plane;
    float* d2 = d1 + plane;
    for (int x = 0; x < W; ++x) {
      d0[x] = acc[size_t(x) * 3] * inv[0] + off[0];
      d1[x] = acc[size_t(x) * 3 + 1] * inv[1] + off[1];
      d2[x] = acc[size_t(x) * 3 + 2] * inv[2] + off[2];
    }
  }
}

}  // namespace mabdet
