// The tail shared by the weighted layers (convolutional, deconvolutional, connected):
// out = act(norm(pre)). The layer writes its linear output into pre(ctx, out) and calls forward();
// backward() turns dL/dout into dL/dpre. What it keeps between the passes is pre alone (no norm
// reads its own output, and the activation's backward reads `out`): the norm writes `out` and the
// activation runs on it in place. A forward-only forward (ctx.forward_only) writes pre into `out`
// itself and normalizes it there, keeping nothing at all.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "mabdet/norm.h"
#include "mabdet/ops.h"

namespace mabdet {

// Reads activation= (default linear) with the allowed values listed on error.
ops::Act read_activation(const Section& sec);

class NormAct {
 public:
  NormAct(std::unique_ptr<Norm> norm, ops::Act act) : norm_(std::move(norm)), act_(act) {}
  // s: the shape of pre and of the layer's output.
  void reshape(const Shape& s) { norm_->reshape(s); }
  // Where the layer writes its linear output (shaped as `out`): a buffer kept for the norm's
  // backward, or `out` itself when no backward follows (ctx.forward_only).
  Tensor& pre(const Context& ctx, Tensor& out);
  // out = act(norm(pre)), with pre as the last pre(ctx, out) returned.
  void forward(Context& ctx, Tensor& out);
  // Adds into the norm's param grads; returns dL/dpre in ctx.grad_scratch (valid until the next
  // user of that scratch). Not after a forward-only forward, which kept no pre.
  const Tensor& backward(Context& ctx, const Tensor& out, const Tensor& dout);
  // The norm's params and state, named "norm.<name>".
  std::vector<Param> params();
  std::vector<State> state();
  void to(Device d) {
    norm_->to(d);
    pre_.to(d);
  }
  const Norm& norm() const { return *norm_; }
  // Layer::fold_norm for weights `w` in which output channel f owns values (o * F + f) * inner + j
  // for o < outer, j < inner (a conv: outer 1; a deconv: outer = input channels). `w` may alias
  // `weights`, which must already have the layer's weight shape.
  bool fold(const float* w, int outer, int inner, Tensor& weights, Tensor& bias) const;
  ops::Act act() const { return act_; }

 private:
  std::unique_ptr<Norm> norm_;
  ops::Act act_;
  Tensor pre_;             // (N, C, H, W) the layer's linear output = norm input
  bool kept_pre_ = false;  // the last forward normalized pre_, not `out` in place
};

}  // namespace mabdet
