// Layer: one cfg section. The Network calls reshape() whenever input shapes change (reallocating
// only on growth), then forward(); backward() ADDS dL/dinput and dL/dparam (gradients are dL/dx,
// never darknet's negative). The optimizer updates params(); state() names every non-learned tensor
// and counter that checkpoints must save (running statistics, MABN buffers, iteration counters).
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "mabdet/context.h"
#include "mabdet/tensor.h"

namespace mabdet {

struct Param {
  std::string name;  // "weights", "bias", "norm.gamma", ...
  Tensor* value;
  Tensor* grad;      // same shape as value; layers add into it
  float lr_mult = 1.f;
  float decay_mult = 1.f;  // 0 for biases and norm affine parameters
};

struct State {
  std::string name;
  Tensor* tensor = nullptr;    // exactly one of tensor / counter is set
  int64_t* counter = nullptr;
};

using Inputs = std::vector<const Tensor*>;
using InputGrads = std::vector<Tensor*>;  // entries may be null: that input needs no gradient

class Layer {
 public:
  virtual ~Layer() = default;
  virtual std::string type() const = 0;
  // Columns of the layer table: filters and size/stride, e.g. "16" and "3x3/1".
  virtual std::string filters_str() const { return ""; }
  virtual std::string size_str() const { return ""; }

  virtual Shape reshape(const std::vector<Shape>& in) = 0;
  virtual void forward(Context& ctx, const Inputs& in, Tensor& out) = 0;
  virtual void backward(Context& ctx, const Inputs& in, const Tensor& out, const Tensor& dout,
                        const InputGrads& din) = 0;
  virtual std::vector<Param> params() { return {}; }
  virtual std::vector<State> state() { return {}; }
  // Loss layers report the loss of the last forward (already scaled as ctx.loss_scale says).
  virtual bool is_loss() const { return false; }
  virtual double loss() const { return 0; }
};

}  // namespace mabdet
