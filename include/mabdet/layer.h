// Layer: one cfg section. run_forward() learns the input shapes at every call (reshape() when they
// change, reallocating only on growth), then forward(); backward() ADDS dL/dinput and dL/dparam (gradients are dL/dx,
// never darknet's negative). The optimizer updates params(); state() names every non-learned tensor
// and counter that checkpoints must save (running statistics, MABN buffers, iteration counters).
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <initializer_list>
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

enum class Kind : uint8_t { Float, Index };

// One output of a layer. Port 0 is the main output (what `from=NAME` reads), always Float; the
// others are read as `from=NAME:PORT`. Gradients flow back through a Float port unless grad is
// false (proposals, sampled targets, anything computed under a stop-gradient).
struct Port {
  std::string name;
  Kind kind = Kind::Float;
  bool grad = true;
};

// What a layer reads: its Float inputs in `from=` order (in[k]) and, apart, its Index inputs in
// `from=` order (in.index[k]). Shapes of the Float inputs drive reshape().
class Inputs {
 public:
  Inputs() = default;
  Inputs(std::initializer_list<const Tensor*> f) : f_(f) {}
  const Tensor* operator[](size_t k) const { return f_[k]; }
  const Tensor* at(size_t k) const { return f_.at(k); }
  size_t size() const { return f_.size(); }
  bool empty() const { return f_.empty(); }
  auto begin() const { return f_.begin(); }
  auto end() const { return f_.end(); }
  void push_back(const Tensor* t) { f_.push_back(t); }
  void clear() { f_.clear(); index.clear(); }
  std::vector<Shape> shapes() const;
  std::vector<const IndexTensor*> index;

 private:
  std::vector<const Tensor*> f_;
};
// One per Float input; null: that input needs no gradient. A layer adds into din[k], except where
// fresh(k): then din[k] was just taken for this backward, holds stale values, and the layer writes
// it instead (a network hands fresh gradients only to layers whose writes_fresh_grads() is true,
// which saves zeroing a gradient that is about to be overwritten).
struct InputGrads : std::vector<Tensor*> {
  using std::vector<Tensor*>::vector;
  std::vector<char> fresh_at;  // fresh_at[k] != 0: din[k] is fresh; shorter (or empty): the rest are not
  bool fresh(size_t k) const { return k < fresh_at.size() && fresh_at[k]; }
};

// Where a layer writes: one tensor per port, Float ports in f (f[0] = port 0), Index ports in
// index, each in ports() order.
struct Outputs {
  std::vector<Tensor*> f;
  std::vector<IndexTensor*> index;
};

// One named loss term of the last forward, already weighted (and scaled by ctx.loss_scale).
struct LossTerm {
  std::string name;
  double value = 0;
};

class Layer {
 public:
  virtual ~Layer() = default;
  virtual std::string type() const = 0;
  // Columns of the layer table: filters and size/stride, e.g. "16" and "3x3/1".
  virtual std::string filters_str() const { return ""; }
  virtual std::string size_str() const { return ""; }

  // Sizes the layer's buffers for these Float input shapes (reallocating only on growth) and
  // returns port 0's shape. run_forward() calls it whenever the shapes differ from the last call.
  virtual Shape reshape(const std::vector<Shape>& in) = 0;
  // Single-output layers implement these two (forward() assumes reshape() saw in's shapes).
  virtual void forward(Context& ctx, const Inputs& in, Tensor& out) { MABDET_ASSERT(false, type(), ": no forward"); }
  virtual void backward(Context& ctx, const Inputs& in, const Tensor& out, const Tensor& dout,
                        const InputGrads& din) {}
  // Multi-output layers override ports() and these two; they may resize any output in forward.
  virtual std::vector<Port> ports() const { return {Port{}}; }
  virtual Shape port_shape(size_t float_port) const { return {}; }  // build-time shape of a Float port > 0
  virtual void forward_ports(Context& ctx, const Inputs& in, const Outputs& out) { forward(ctx, in, *out.f.at(0)); }
  // dout: dL/d(each Float port), same shapes as the outputs of the last forward.
  virtual void backward_ports(Context& ctx, const Inputs& in, const Outputs& out, const std::vector<const Tensor*>& dout,
                              const InputGrads& din) {
    backward(ctx, in, *out.f.at(0), *dout.at(0), din);
  }

  // What callers use: learns the input shapes at every forward (reshape() on change), sizes port
  // 0, runs forward_ports; backward checks it is given the shapes of that forward.
  void run_forward(Context& ctx, const Inputs& in, const Outputs& out);
  void run_backward(Context& ctx, const Inputs& in, const Outputs& out, const std::vector<const Tensor*>& dout,
                    const InputGrads& din);
  // Port 0's shape for Float inputs of these shapes (reshape() when they differ from the last
  // call's): what run_forward gives it, for a caller that provides the storage first.
  Shape shape_for(const std::vector<Shape>& in);
  // The single-output forms of the two.
  void run_forward(Context& ctx, const Inputs& in, Tensor& out);
  void run_backward(Context& ctx, const Inputs& in, const Tensor& out, const Tensor& dout, const InputGrads& din);

  // What backward reads of its forward beyond shapes: the inputs' values, its own output's. A
  // network with lean memory frees, in training, the outputs that no backward will read. True
  // unless a layer says otherwise.
  virtual bool backward_reads_inputs() const { return true; }
  virtual bool backward_reads_output() const { return true; }
  // True for a layer whose backward writes din[k] wherever din.fresh(k) (InputGrads); the others
  // are always handed zeroed gradients to add into.
  virtual bool writes_fresh_grads() const { return false; }

  virtual std::vector<Param> params() { return {}; }
  virtual std::vector<State> state() { return {}; }
  // Moves everything the layer holds to device d (Network::to): params, their gradients, state
  // and scratch. This default moves params() and state(); a layer with other buffers overrides
  // it (and calls it). A layer that runs on the host only fails for Device::CUDA, naming itself.
  virtual void to(Device d);
  // The inference form of a weighted layer whose norm is affine at inference (bn, frozen_bn, brn,
  // mabn, a bias): the weights as its forward uses them (centred when centralize=1) with the norm's
  // per-channel scale multiplied in, into `weights` (the layer's weight shape), and the shift into
  // `bias` (1 x channels). False, and nothing written, when there is nothing such to fold.
  virtual bool fold_norm(Tensor& weights, Tensor& bias) const { return false; }
  // Loss layers report the loss of the last forward (already scaled as ctx.loss_scale says).
  virtual bool is_loss() const { return false; }
  virtual double loss() const { return 0; }
  // Named terms of that loss; one term named after the layer type unless a layer says more.
  virtual std::vector<LossTerm> loss_terms() const {
    if (!is_loss()) return {};
    return {LossTerm{type(), loss()}};
  }

 protected:
  // to() of a layer that runs on the host only: fails for any other device.
  void host_only(Device d) const;

 private:
  std::vector<Shape> in_shapes_;   // Float input shapes of the last reshape()
  Shape out_shape_{};              // port 0's shape for them
  bool shaped_ = false;
  std::vector<Shape> fwd_shapes_;  // Float input shapes of the last forward, checked by backward
};

}  // namespace mabdet
