// Box coder: boxes <-> regression deltas relative to reference boxes (anchors or proposals), as
// torchvision's BoxCoder and Detectron2's Box2BoxTransform define them (the two agree):
//   dx = wx * (cx' - cx) / w    dy = wy * (cy' - cy) / h    dw = ww * log(w' / w)    dh = wh * log(h' / h)
// with centres cx = x1 + 0.5 * w. Decoding clamps dw / wx and dh / wh at `clamp` (log(1000/16)) so
// exp() cannot overflow, and runs in fp32 like Detectron2 (which casts half deltas up first).
#pragma once
#include <cmath>

#include "mabdet/tensor.h"

namespace mabdet::detect {

struct BoxCoder {
  float wx = 1.f, wy = 1.f, ww = 1.f, wh = 1.f;  // RPN: 1,1,1,1; box head: 10,10,5,5
  float clamp = float(std::log(1000.0 / 16.0));

  // deltas (N, 4) that take ref[i] to target[i]. Reference boxes must have positive width and height.
  void encode(const Tensor& ref, const Tensor& target, Tensor& deltas) const;
  // boxes (N, 4K) from deltas (N, 4K) applied to ref (N, 4): K sets of deltas per reference box
  // (class-specific regression), each decoded against the same reference box.
  void decode(const Tensor& deltas, const Tensor& ref, Tensor& boxes) const;
};

}  // namespace mabdet::detect
