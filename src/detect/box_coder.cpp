#include "mabdet/detect/box_coder.h"

#include <algorithm>

#include "detect/check.h"

namespace mabdet::detect {

// The operation order follows torchvision's encode_boxes / decode_single term by term, so results
// agree to the last bit wherever exp/log do.
void BoxCoder::encode(const Tensor& ref, const Tensor& target, Tensor& deltas) const {
  require_rows("BoxCoder::encode", "ref", ref, 4);
  require_rows("BoxCoder::encode", "target", target, 4);
  MABDET_ASSERT(ref.n() == target.n(), "BoxCoder::encode: ", ref.n(), " reference boxes, ", target.n(), " targets");
  deltas.reshape(ref.n(), 4);
  for (int i = 0; i < ref.n(); ++i) {
    const float* r = ref.data() + 4 * size_t(i);
    const float* t = target.data() + 4 * size_t(i);
    const float rw = r[2] - r[0], rh = r[3] - r[1];
    const float rx = r[0] + 0.5f * rw, ry = r[1] + 0.5f * rh;
    const float tw = t[2] - t[0], th = t[3] - t[1];
    const float tx = t[0] + 0.5f * tw, ty = t[1] + 0.5f * th;
    float* d = deltas.data() + 4 * size_t(i);
    d[0] = wx * (tx - rx) / rw;
    d[1] = wy * (ty - ry) / rh;
    d[2] = ww * std::log(tw / rw);
    d[3] = wh * std::log(th / rh);
  }
}

void BoxCoder::decode(const Tensor& deltas, const Tensor& ref, Tensor& boxes) const {
  require_rows("BoxCoder::decode", "ref", ref, 4);
  require_host("BoxCoder::decode", deltas);
  const int n = ref.n();
  MABDET_ASSERT(deltas.n() == n && deltas.c() % 4 == 0 && deltas.h() == 1 && deltas.w() == 1,
                "BoxCoder::decode: deltas ", deltas.shape().str(), " for ", n, " reference boxes");
  const int k = deltas.c() / 4;
  boxes.reshape(n, 4 * k);
  for (int i = 0; i < n; ++i) {
    const float* r = ref.data() + 4 * size_t(i);
    const float w = r[2] - r[0], h = r[3] - r[1];
    const float cx = r[0] + 0.5f * w, cy = r[1] + 0.5f * h;
    for (int j = 0; j < k; ++j) {
      const float* d = deltas.data() + (size_t(i) * k + j) * 4;
      float* b = boxes.data() + (size_t(i) * k + j) * 4;
      const float dx = d[0] / wx, dy = d[1] / wy;
      const float dw = std::min(d[2] / ww, clamp), dh = std::min(d[3] / wh, clamp);
      const float pcx = dx * w + cx, pcy = dy * h + cy;
      const float half_w = 0.5f * (std::exp(dw) * w), half_h = 0.5f * (std::exp(dh) * h);
      b[0] = pcx - half_w;
      b[1] = pcy - half_h;
      b[2] = pcx + half_w;
      b[3] = pcy + half_h;
    }
  }
}

}  // namespace mabdet::detect
