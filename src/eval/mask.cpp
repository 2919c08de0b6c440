// COCO RLE mask ops. The arithmetic (int truncation, the 5x boundary upsampling, unsigned
// wrap-around in the string decoder) follows COCO's maskApi so results match pycocotools bit for bit.
#include "mabdet/mask.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "mabdet/error.h"

namespace mabdet {

Rle rle_encode(const uint8_t* mask, uint32_t h, uint32_t w) {
  Rle r{h, w, {}};
  const size_t n = size_t(h) * w;
  uint8_t cur = 0;
  uint32_t run = 0;
  for (size_t i = 0; i < n; ++i) {
    const uint8_t v = mask[i] != 0;
    if (v != cur) {
      r.counts.push_back(run);
      run = 0;
      cur = v;
    }
    ++run;
  }
  r.counts.push_back(run);
  return r;
}

void rle_decode(const Rle& r, uint8_t* mask) {
  uint8_t v = 0;
  for (uint32_t c : r.counts) {
    std::fill(mask, mask + c, v);
    mask += c;
    v = !v;
  }
}

void rle_check(const Rle& r) {
  const uint64_t pixels = uint64_t(r.h) * r.w;
  if (pixels > UINT32_MAX) fail("a ", r.h, "x", r.w, " mask has more pixels than an RLE can count (2^32 - 1)");
  uint64_t total = 0;
  for (uint32_t c : r.counts) total += c;
  if (total != pixels)
    fail("RLE counts cover ", total, " pixels but the mask is ", r.h, "x", r.w, " = ", pixels, " pixels");
}

std::vector<uint8_t> rle_decode(const Rle& r) {
  rle_check(r);
  std::vector<uint8_t> m(size_t(r.h) * r.w);
  rle_decode(r, m.data());
  return m;
}

// Each count after the second is stored as the difference to the count two before it (same
// colour), in little-endian 5-bit groups with a continuation bit, offset into printable ASCII.
std::string rle_to_string(const Rle& r) {
  std::string s;
  s.reserve(r.counts.size() * 2);
  for (size_t i = 0; i < r.counts.size(); ++i) {
    int64_t x = r.counts[i];
    if (i > 2) x -= int64_t(r.counts[i - 2]);
    for (bool more = true; more;) {
      char c = char(x & 0x1f);
      x >>= 5;
      more = (c & 0x10) ? x != -1 : x != 0;
      if (more) c |= 0x20;
      s.push_back(char(c + 48));
    }
  }
  return s;
}

Rle rle_from_string(std::string_view s, uint32_t h, uint32_t w) {
  Rle r{h, w, {}};
  r.counts.reserve(s.size());
  size_t p = 0;
  while (p < s.size()) {
    // Unsigned, so that the 13th group's high bits and the sign fill wrap instead of overflowing;
    // only the low 32 bits are kept, as COCO's uint counts do.
    uint64_t x = 0;
    int k = 0;
    for (bool more = true; more; ++k) {
      if (p >= s.size()) fail("truncated RLE counts string");
      if (k > 12) fail("RLE counts string has a run that does not fit 64 bits");
      const int c = int(s[p++]) - 48;
      if (c < 0 || c > 63) fail("RLE counts string has a character outside '0'..'o'");
      x |= uint64_t(c & 0x1f) << (5 * k);
      more = c & 0x20;
      if (!more && (c & 0x10) && 5 * (k + 1) < 64) x |= ~uint64_t(0) << (5 * (k + 1));
    }
    if (r.counts.size() > 2) x += r.counts[r.counts.size() - 2];
    r.counts.push_back(uint32_t(x));
  }
  return r;
}

Rle rle_from_polygon(const double* xy, size_t k, uint32_t h, uint32_t w) {
  if (uint64_t(h) * w > UINT32_MAX) fail("a ", h, "x", w, " mask has more pixels than an RLE can count (2^32 - 1)");
  // The walk below is int arithmetic on a 5x grid and visits every grid point of every edge: far
  // coordinates would overflow it (COCO's C code has the same undefined conversion) or take ages.
  for (size_t j = 0; j < 2 * k; ++j)
    if (!(std::fabs(xy[j]) <= kMaxPolygonCoord))
      fail("polygon coordinate ", xy[j], " is outside -", kMaxPolygonCoord, "..", kMaxPolygonCoord);
  if (k == 0) return Rle{h, w, {h * w}};
  // COCO walks the boundary on a 5x finer grid: vertices rounded to it, then every grid point
  // along each edge (stepping along the longer axis; each edge's point formula does not depend on
  // the walking direction). Wherever two consecutive points straddle a pixel column centre, the
  // first pixel below the boundary there toggles the mask. Here the crossings are computed
  // directly instead of materializing the points.
  const double scale = 5;
  auto gx = [&](size_t j) { return int(scale * xy[2 * (j % k)] + .5); };
  auto gy = [&](size_t j) { return int(scale * xy[2 * (j % k) + 1] + .5); };
  std::vector<uint32_t> a;
  // (u0, v0) then (u1, v1) consecutive on the walk.
  auto pair = [&](int u0, int v0, int u1, int v1) {
    if (u1 == u0) return;
    // COCO tests (xi + .5) / 5 - .5 for being a whole number >= 0, i.e. xi = 5 * col + 2; the
    // integer form is exact.
    const int xi = u1 < u0 ? u1 : u1 - 1;
    if (xi < 2 || (xi - 2) % 5 != 0 || int64_t((xi - 2) / 5) > int64_t(w) - 1) return;
    double yd = double(v1 < v0 ? v1 : v0);
    yd = (yd + .5) / scale - .5;
    if (yd < 0) yd = 0;
    else if (yd > h) yd = h;
    yd = std::ceil(yd);
    a.push_back(uint32_t(int64_t((xi - 2) / 5) * h + int64_t(yd)));
  };
  bool have_prev = false;
  int pu = 0, pv = 0;  // last point of the previous edge
  for (size_t j = 0; j < k; ++j) {
    int xs = gx(j), xe = gx(j + 1), ys = gy(j), ye = gy(j + 1);
    const int dx = std::abs(xe - xs), dy = std::abs(ys - ye);
    const bool flip = (dx >= dy && xs > xe) || (dx < dy && ys > ye);
    if (flip) {
      std::swap(xs, xe);
      std::swap(ys, ye);
    }
    const bool along_x = dx >= dy;
    const int n = along_x ? dx : dy;
    // A repeated vertex is an edge of one point: COCO divides 0 by 0 there and converts the NaN to
    // int (undefined; its pair is skipped either way, as both points share u).
    const double sl = n == 0 ? 0.0 : along_x ? double(ye - ys) / dx : double(xe - xs) / dy;
    // Point number t (0..n) of this edge; the walk visits t = 0..n, or n..0 when flipped.
    auto u_at = [&](int t) { return along_x ? t + xs : int(xs + sl * t + .5); };
    auto v_at = [&](int t) { return along_x ? int(ys + sl * t + .5) : t + ys; };
    const int t_first = flip ? n : 0, t_last = flip ? 0 : n;
    if (have_prev) pair(pu, pv, u_at(t_first), v_at(t_first));
    if (along_x) {
      // u steps by one each point: only pairs whose left column is 5 * col + 2 can count, and
      // for a step of one the pair's order does not matter.
      const int r = ((xs - 2) % 5 + 5) % 5;
      for (int t = (5 - r) % 5; t < n; t += 5) pair(u_at(t), v_at(t), u_at(t + 1), v_at(t + 1));
    } else {
      int u0 = u_at(0), v0 = v_at(0);
      for (int t = 1; t <= n; ++t) {
        const int u1 = u_at(t), v1 = v_at(t);
        // |u1 - u0| <= 1 here too, so the pair's order does not matter either.
        if (u1 != u0) pair(u0, v0, u1, v1);
        u0 = u1;
        v0 = v1;
      }
    }
    have_prev = true;
    pu = u_at(t_last);
    pv = v_at(t_last);
  }
  a.push_back(h * w);
  std::sort(a.begin(), a.end());
  uint32_t prev = 0;
  for (uint32_t& t : a) {
    const uint32_t cur = t;
    t -= prev;
    prev = cur;
  }
  // Two toggles at one position cancel: fold each zero-length run into its neighbour.
  Rle r{h, w, {}};
  r.counts.reserve(a.size());
  size_t j = 0;
  r.counts.push_back(a[j++]);
  while (j < a.size()) {
    if (a[j] > 0) {
      r.counts.push_back(a[j++]);
    } else {
      ++j;
      if (j < a.size()) r.counts.back() += a[j++];
    }
  }
  return r;
}

Rle rle_from_bbox(const BoxXYWH& b, uint32_t h, uint32_t w) {
  const double xs = b[0], xe = xs + b[2], ys = b[1], ye = ys + b[3];
  const double xy[8] = {xs, ys, xs, ye, xe, ye, xe, ys};
  return rle_from_polygon(xy, 4, h, w);
}

// Walks two run lists in lockstep; calls f(len, in_a, in_b) for each stretch where neither
// mask changes. Both should cover the same number of pixels (rle_check); if not, the walk stops
// where the shorter one ends, so every step consumes a run and the loop is bounded by the input.
template <class F>
static void co_runs(const Rle& A, const Rle& B, F&& f) {
  if (A.counts.empty() || B.counts.empty()) return;
  size_t ia = 1, ib = 1;
  uint32_t ca = A.counts[0], cb = B.counts[0];
  bool va = false, vb = false;
  for (;;) {
    const uint32_t c = std::min(ca, cb);
    f(c, va, vb);
    ca -= c;
    cb -= c;
    // Zero-length runs only flip the colour.
    while (!ca && ia < A.counts.size()) { ca = A.counts[ia++]; va = !va; }
    while (!cb && ib < B.counts.size()) { cb = B.counts[ib++]; vb = !vb; }
    if (ca == 0 || cb == 0) break;
  }
}

Rle rle_merge(const std::vector<Rle>& rles, bool intersect) {
  if (rles.empty()) return Rle{};
  Rle acc = rles[0];
  for (size_t i = 1; i < rles.size(); ++i) {
    const Rle& b = rles[i];
    if (b.h != acc.h || b.w != acc.w) return Rle{};
    Rle out{acc.h, acc.w, {}};
    bool v = false;
    uint32_t run = 0;
    co_runs(acc, b, [&](uint32_t c, bool va, bool vb) {
      const bool nv = intersect ? (va && vb) : (va || vb);
      if (nv != v) {
        out.counts.push_back(run);
        run = 0;
        v = nv;
      }
      run += c;
    });
    out.counts.push_back(run);
    acc = std::move(out);
  }
  return acc;
}

uint64_t rle_area(const Rle& r) {
  uint64_t a = 0;
  for (size_t j = 1; j < r.counts.size(); j += 2) a += r.counts[j];
  return a;
}

BoxXYWH rle_to_bbox(const Rle& r) {
  const size_t m = r.counts.size() / 2 * 2;  // a trailing background run adds nothing
  if (m == 0 || r.h == 0) return {0, 0, 0, 0};
  const uint32_t h = r.h;
  uint32_t xs = r.w, ys = h, xe = 0, ye = 0, xp = 0, cc = 0;
  for (size_t j = 0; j < m; ++j) {
    cc += r.counts[j];
    const uint32_t t = cc - uint32_t(j % 2);  // first pixel of a run, or last pixel of a fg run
    const uint32_t y = t % h, x = (t - y) / h;
    if (j % 2 == 0) xp = x;
    else if (xp < x) { ys = 0; ye = h - 1; }
    xs = std::min(xs, x); xe = std::max(xe, x);
    ys = std::min(ys, y); ye = std::max(ye, y);
  }
  return {double(xs), double(ys), double(xe - xs + 1), double(ye - ys + 1)};
}

double box_iou(const BoxXYWH& d, const BoxXYWH& g, bool crowd) {
  const double da = d[2] * d[3], ga = g[2] * g[3];
  const double iw = std::fmin(d[2] + d[0], g[2] + g[0]) - std::fmax(d[0], g[0]);
  if (iw <= 0) return 0;
  const double ih = std::fmin(d[3] + d[1], g[3] + g[1]) - std::fmax(d[1], g[1]);
  if (ih <= 0) return 0;
  const double i = iw * ih;
  return i / (crowd ? da : da + ga - i);
}

double rle_iou(const Rle& dt, const BoxXYWH& dt_box, const Rle& gt, const BoxXYWH& gt_box,
               bool crowd) {
  // COCO first checks the masks' boxes; only overlapping boxes reach the size check.
  if (!(box_iou(dt_box, gt_box, crowd) > 0)) return 0;
  if (dt.h != gt.h || dt.w != gt.w) return -1;
  uint64_t inter = 0, uni = 0;
  co_runs(dt, gt, [&](uint32_t c, bool va, bool vb) {
    if (va || vb) uni += c;
    if (va && vb) inter += c;
  });
  if (inter == 0) return 0;
  if (crowd) uni = rle_area(dt);
  return double(inter) / double(uni);
}

double rle_iou(const Rle& dt, const Rle& gt, bool crowd) {
  return rle_iou(dt, rle_to_bbox(dt), gt, rle_to_bbox(gt), crowd);
}

}  // namespace mabdet
