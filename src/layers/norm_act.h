// The tail shared by the weighted layers (convolutional, deconvolutional, connected):
// out = act(norm(pre)). The layer writes its linear output into pre() and calls forward(); backward()
// turns dL/dout into dL/dpre. The norm output is kept apart from `out` only when an activation
// overwrites it, since a norm's backward may read its own output.
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
  // s: the shape of pre() and of the layer's output.
  void reshape(const Shape& s);
  Tensor& pre() { return pre_; }
  // out = act(norm(pre())); out has the shape given to reshape().
  void forward(Context& ctx, Tensor& out);
  // Adds into the norm's param grads; returns dL/dpre (overwritten by each call).
  const Tensor& backward(Context& ctx, const Tensor& out, const Tensor& dout);
  // The norm's params and state, named "norm.<name>".
  std::vector<Param> params();
  std::vector<State> state();
  const Norm& norm() const { return *norm_; }
  // Layer::fold_norm for weights `w` in which output channel f owns values (o * F + f) * inner + j
  // for o < outer, j < inner (a conv: outer 1; a deconv: outer = input channels). `w` may alias
  // `weights`, which must already have the layer's weight shape.
  bool fold(const float* w, int outer, int inner, Tensor& weights, Tensor& bias) const;
  ops::Act act() const { return act_; }

 private:
  std::unique_ptr<Norm> norm_;
  ops::Act act_;
  Tensor pre_;     // (N, C, H, W) the layer's linear output = norm input
  Tensor normed_;  // (N, C, H, W) norm output = activation input; only when act != linear
  Tensor delta_;   // (N, C, H, W) dL/dnormed = dout * act'; only when act != linear
  Tensor dpre_;    // (N, C, H, W) dL/dpre
};

}  // namespace mabdet
