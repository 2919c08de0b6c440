// RoIAlign on the host. The arithmetic follows torchvision's CPU kernel step by step (same
// expressions, same float type, same order of the four bilinear terms), so the two agree to
// rounding. Samples of one RoI are computed once and reused over all channels.
#include "mabdet/detect/roi_align.h"

#include <algorithm>
#include <cmath>
#include <vector>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "detect/check.h"

namespace mabdet::detect {
namespace {

struct Bin {
  float start_w, start_h, bin_w, bin_h;
  int grid_h, grid_w;
  float count;
};

Bin geometry(const float* box, const RoIAlignParams& p) {
  const float off = p.aligned ? 0.5f : 0.f, s = p.spatial_scale;
  Bin b;
  b.start_w = box[0] * s - off;
  b.start_h = box[1] * s - off;
  float w = (box[2] * s - off) - b.start_w, h = (box[3] * s - off) - b.start_h;
  if (!p.aligned) w = std::max(w, 1.f), h = std::max(h, 1.f);
  b.bin_h = h / float(p.pooled_h);
  b.bin_w = w / float(p.pooled_w);
  b.grid_h = p.sampling_ratio > 0 ? p.sampling_ratio : int(std::ceil(h / float(p.pooled_h)));
  b.grid_w = p.sampling_ratio > 0 ? p.sampling_ratio : int(std::ceil(w / float(p.pooled_w)));
  b.count = float(std::max(b.grid_h * b.grid_w, 1));
  return b;
}

// One bilinear sample: four plane offsets and weights; weights 0 (and offsets 0) outside the map.
struct Sample {
  int pos[4];
  float w[4];
};

Sample bilinear(int height, int width, float y, float x) {
  Sample s{};
  if (y < -1.f || y > float(height) || x < -1.f || x > float(width)) return s;
  y = std::max(y, 0.f);
  x = std::max(x, 0.f);
  int y0 = int(y), x0 = int(x), y1, x1;
  if (y0 >= height - 1) y1 = y0 = height - 1, y = float(y0);
  else y1 = y0 + 1;
  if (x0 >= width - 1) x1 = x0 = width - 1, x = float(x0);
  else x1 = x0 + 1;
  const float ly = y - float(y0), lx = x - float(x0), hy = 1.f - ly, hx = 1.f - lx;
  s.pos[0] = y0 * width + x0, s.pos[1] = y0 * width + x1, s.pos[2] = y1 * width + x0, s.pos[3] = y1 * width + x1;
  s.w[0] = hy * hx, s.w[1] = hy * lx, s.w[2] = ly * hx, s.w[3] = ly * lx;
  return s;
}

// All samples of a RoI, bin by bin (ph, pw), each bin's grid_h x grid_w in row-major order.
void roi_samples(const Bin& b, const RoIAlignParams& p, int height, int width, std::vector<Sample>& out) {
  out.clear();
  for (int ph = 0; ph < p.pooled_h; ++ph)
    for (int pw = 0; pw < p.pooled_w; ++pw)
      for (int iy = 0; iy < b.grid_h; ++iy) {
        const float y = b.start_h + float(ph) * b.bin_h + float(iy + .5f) * b.bin_h / float(b.grid_h);
        for (int ix = 0; ix < b.grid_w; ++ix) {
          const float x = b.start_w + float(pw) * b.bin_w + float(ix + .5f) * b.bin_w / float(b.grid_w);
          out.push_back(bilinear(height, width, y, x));
        }
      }
}

// Rois as (image index, box pointer): from (R, 5) rows or from boxes (R, 4) + indices (R, 1).
struct Rois {
  std::vector<int> image;
  std::vector<const float*> box;
};

Rois from_rows(const char* op, const Tensor& rois, int batch) {
  require_rows(op, "rois", rois, 5);
  Rois r;
  for (int i = 0; i < rois.n(); ++i) {
    const float* row = rois.data() + 5 * size_t(i);
    const int b = int(row[0]);
    MABDET_ASSERT(b >= 0 && b < batch && float(b) == row[0], op, ": roi ", i, " has image index ", row[0],
                  " for a batch of ", batch);
    r.image.push_back(b);
    r.box.push_back(row + 1);
  }
  return r;
}

Rois from_boxes(const char* op, const Tensor& boxes, const IndexTensor& image, int batch) {
  require_rows(op, "boxes", boxes, 4);
  require_rows(op, "image", image, 1);
  MABDET_ASSERT(image.n() == boxes.n(), op, ": ", boxes.n(), " boxes, ", image.n(), " image indices");
  Rois r;
  for (int i = 0; i < boxes.n(); ++i) {
    MABDET_ASSERT(image[i] >= 0 && image[i] < batch, op, ": roi ", i, " has image index ", image[i],
                  " for a batch of ", batch);
    r.image.push_back(image[i]);
    r.box.push_back(boxes.data() + 4 * size_t(i));
  }
  return r;
}

void forward(const Tensor& input, const Rois& rois, const RoIAlignParams& p, Tensor& out) {
  require_host("roi_align", input);
  MABDET_ASSERT(p.pooled_h > 0 && p.pooled_w > 0 && p.sampling_ratio >= 0, "roi_align: output ", p.pooled_h, "x",
                p.pooled_w, " sampling_ratio ", p.sampling_ratio);
  const Shape s = input.shape();
  const int nr = int(rois.image.size());
  const size_t bins = size_t(p.pooled_h) * p.pooled_w;
  out.reshape(nr, s.c, p.pooled_h, p.pooled_w);
#pragma omp parallel
  {
    std::vector<Sample> smp;
#pragma omp for schedule(dynamic)
    for (int r = 0; r < nr; ++r) {
      const Bin b = geometry(rois.box[r], p);
      roi_samples(b, p, s.h, s.w, smp);
      const size_t per_bin = size_t(std::max(b.grid_h, 0)) * std::max(b.grid_w, 0);
      for (int c = 0; c < s.c; ++c) {
        const float* plane = input.data() + (size_t(rois.image[r]) * s.c + c) * s.plane();
        float* o = out.data() + (size_t(r) * s.c + c) * bins;
        for (size_t k = 0; k < bins; ++k) {
          float v = 0.f;
          for (const Sample* q = smp.data() + k * per_bin, *e = q + per_bin; q != e; ++q)
            v += q->w[0] * plane[q->pos[0]] + q->w[1] * plane[q->pos[1]] + q->w[2] * plane[q->pos[2]] +
                 q->w[3] * plane[q->pos[3]];
          o[k] = v / b.count;
        }
      }
    }
  }
}

void backward(const Tensor& grad_out, const Rois& rois, const RoIAlignParams& p, Tensor& grad_input) {
  require_host("roi_align_backward", grad_out);
  require_host("roi_align_backward", grad_input);
  const Shape s = grad_input.shape();
  const int nr = int(rois.image.size());
  const size_t bins = size_t(p.pooled_h) * p.pooled_w;
  MABDET_ASSERT(grad_out.shape() == (Shape{nr, s.c, p.pooled_h, p.pooled_w}), "roi_align_backward: grad_out ",
                grad_out.shape().str(), " for ", nr, " rois of ", s.c, " channels");
  // Channels own disjoint gradient planes: each thread takes a block of channels and walks every
  // RoI for it, so threads scatter without atomics and meet at a barrier once, not once per RoI.
#pragma omp parallel if (size_t(nr) * s.c * bins > 65536)
  {
    int c0 = 0, c1 = s.c;
#ifdef _OPENMP
    const int t = omp_get_thread_num(), nt = omp_get_num_threads();
    c0 = int(int64_t(s.c) * t / nt), c1 = int(int64_t(s.c) * (t + 1) / nt);
#endif
    std::vector<Sample> smp;
    for (int r = 0; r < nr && c0 < c1; ++r) {
      const Bin b = geometry(rois.box[r], p);
      roi_samples(b, p, s.h, s.w, smp);
      const size_t per_bin = size_t(std::max(b.grid_h, 0)) * std::max(b.grid_w, 0);
      for (int c = c0; c < c1; ++c) {
        float* plane = grad_input.data() + (size_t(rois.image[r]) * s.c + c) * s.plane();
        const float* g = grad_out.data() + (size_t(r) * s.c + c) * bins;
        for (size_t k = 0; k < bins; ++k)
          for (const Sample* q = smp.data() + k * per_bin, *e = q + per_bin; q != e; ++q)
            for (int i = 0; i < 4; ++i) plane[q->pos[i]] += g[k] * q->w[i] / b.count;
      }
    }
  }
}

}  // namespace

void roi_align(const Tensor& input, const Tensor& rois, const RoIAlignParams& p, Tensor& out) {
  forward(input, from_rows("roi_align", rois, input.n()), p, out);
}
void roi_align(const Tensor& input, const Tensor& boxes, const IndexTensor& image, const RoIAlignParams& p,
               Tensor& out) {
  forward(input, from_boxes("roi_align", boxes, image, input.n()), p, out);
}
void roi_align_backward(const Tensor& grad_out, const Tensor& rois, const RoIAlignParams& p, Tensor& grad_input) {
  backward(grad_out, from_rows("roi_align_backward", rois, grad_input.n()), p, grad_input);
}
void roi_align_backward(const Tensor& grad_out, const Tensor& boxes, const IndexTensor& image,
                        const RoIAlignParams& p, Tensor& grad_input) {
  backward(grad_out, from_boxes("roi_align_backward", boxes, image, grad_input.n()), p, grad_input);
}

}  // namespace mabdet::detect
