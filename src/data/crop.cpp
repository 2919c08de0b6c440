#include "mabdet/data/crop.h"

#include <algorithm>

#include "mabdet/data/augment.h"
#include "mabdet/error.h"

namespace mabdet {

void resize_center_crop(const Image& im, int W, int H, bool flip, const float mean[3], const float std[3],
                        float* chw, std::vector<float>& scratch) {
  MABDET_ASSERT(im.w > 0 && im.h > 0 && W > 0 && H > 0);
  const double s = std::max(double(W) / im.w, double(H) / im.h);
  ResizePlan p;
  p.in_w = im.w;
  p.in_h = im.h;
  p.out_w = std::max(W, int(im.w * s + 0.5));
  p.out_h = std::max(H, int(im.h * s + 0.5));
  p.sx = float(double(p.out_w) / im.w);
  p.sy = float(double(p.out_h) / im.h);
  AugmentCfg cfg;
  std::copy(mean, mean + 3, cfg.mean);
  std::copy(std, std + 3, cfg.std);
  const size_t plane = size_t(W) * H;
  if (p.out_w == W && p.out_h == H) {
    p.flip = flip;
    resize_normalize(im, p, cfg, chw, plane, W, scratch);
    return;
  }
  // Resize whole, then copy the centre; mirroring here (not in the resize) keeps a flipped crop
  // the exact mirror of the unflipped one when the margins are odd.
  const size_t big = size_t(p.out_w) * p.out_h;
  std::vector<float> full(3 * big);
  resize_normalize(im, p, cfg, full.data(), big, p.out_w, scratch);
  const int x0 = (p.out_w - W) / 2, y0 = (p.out_h - H) / 2;
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < H; ++y) {
      const float* src = full.data() + c * big + size_t(y + y0) * p.out_w + x0;
      float* dst = chw + c * plane + size_t(y) * W;
      for (int x = 0; x < W; ++x) dst[x] = src[flip ? W - 1 - x : x];
    }
}

}  // namespace mabdet
