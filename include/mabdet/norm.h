// Norm: the normalization every conv holds (and the standalone [normalization] layer). The conv
// never branches on which one: "none" is a plain bias add. Chosen by `norm=` (default in [net],
// overridable per section) with the norm's own keys; see make_norm().
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "mabdet/cfg.h"
#include "mabdet/layer.h"

namespace mabdet {

class Norm {
 public:
  virtual ~Norm() = default;
  virtual std::string name() const = 0;  // "none" | "bn" | "sync_bn" | "frozen_bn" | "gn" | "brn" | "mabn"
  // Called when the input shape changes; channels never change after construction.
  virtual void reshape(const Shape& s) {}
  // y = norm(x); ctx.train selects batch statistics (and advances buffers/counters) vs inference.
  // y has x's shape and may be x itself (every norm takes its statistics before it writes), which
  // is how inference normalizes a conv's output where it lies.
  virtual void forward(Context& ctx, const Tensor& x, Tensor& y) = 0;
  // dL/dx into dx, ADDED when accumulate (the layers' convention), else overwriting dx, which may
  // then be dy itself; ADDS dL/dparams into the param grads. x is the last forward's input. No
  // norm reads its own output y: that is what lets the activation after it run in place on y.
  virtual void backward(Context& ctx, const Tensor& x, const Tensor& dy, Tensor& dx, bool accumulate) = 0;
  virtual std::vector<Param> params() { return {}; }
  virtual std::vector<State> state() { return {}; }
  // Moves every tensor the norm holds (params, gradients, state, scratch) to device d.
  virtual void to(Device d) = 0;
  // Whether a conv feeding this norm centres its filters unless the cfg says otherwise (MABN: yes).
  virtual bool default_centralize() const { return false; }
  // Inference as a per-channel affine map: fills scale and shift (1 x C each) such that the
  // inference forward is y[n,c,:] = x[n,c,:] * scale[c] + shift[c], and returns true; this is what
  // folds into the preceding conv's weights and bias at zero cost. False where inference depends
  // on the sample (gn).
  virtual bool inference_affine(Tensor& scale, Tensor& shift) const { return false; }
};

// Builds the norm named by `norm=` in cfg (section, falling back to [net]), for `channels`
// channels. `bias_default` is what "none" does when the section has no `bias=` key.
std::unique_ptr<Norm> make_norm(const Scope& cfg, int channels, bool bias_default = true);
std::unique_ptr<Norm> make_norm(const std::string& name, const Scope& cfg, int channels, bool bias_default = true);
// Names accepted by norm= (for messages and the README).
const std::vector<std::string>& norm_names();

}  // namespace mabdet
