// One factory per norm (one file each); norm.cpp's table names them. Also the small pieces every
// norm shares: the learnable per-channel affine and the common keys.
#pragma once
#include <cmath>

#include "mabdet/norm.h"
#include "mabdet/ops.h"

namespace mabdet {
std::unique_ptr<Norm> make_none_norm(const Scope& cfg, int channels, bool bias_default);
std::unique_ptr<Norm> make_bn_norm(const Scope& cfg, int channels, bool bias_default);
std::unique_ptr<Norm> make_sync_bn_norm(const Scope& cfg, int channels, bool bias_default);
std::unique_ptr<Norm> make_frozen_bn_norm(const Scope& cfg, int channels, bool bias_default);
std::unique_ptr<Norm> make_gn_norm(const Scope& cfg, int channels, bool bias_default);
std::unique_ptr<Norm> make_brn_norm(const Scope& cfg, int channels, bool bias_default);
std::unique_ptr<Norm> make_mabn_norm(const Scope& cfg, int channels, bool bias_default);

namespace norm_detail {
// gamma (starts at 1) and beta (starts at 0) with their gradients, shaped 1 x C. Both are exempt
// from weight decay: decaying a norm's scale fights the normalization it follows.
struct Affine {
  Tensor gamma, beta, dgamma, dbeta;
  explicit Affine(int channels) : gamma(1, channels), beta(1, channels), dgamma(1, channels), dbeta(1, channels) {
    gamma.fill(1.f);
    beta.zero();
    dgamma.zero();
    dbeta.zero();
  }
  void to(Device d) { to_device(d, gamma, beta, dgamma, dbeta); }
  std::vector<Param> params() { return {{"norm.gamma", &gamma, &dgamma, 1.f, 0.f}, {"norm.beta", &beta, &dbeta, 1.f, 0.f}}; }
};

// The section to blame for a bad value of `key`: the one that set it, else the layer's own
// (Scope::pick would name [net] for a default that is wrong only for this layer).
inline const Section& key_owner(const Scope& cfg, const std::string& key) {
  return (cfg.net && !cfg.sec.has(key) && cfg.net->has(key)) ? *cfg.net : cfg.sec;
}
// norm_eps (> 0; default 1e-5), added to every variance before the square root.
inline float read_eps(const Scope& cfg) {
  const float eps = cfg.get_float("norm_eps", 1e-5f);
  if (!(eps > 0.f)) key_owner(cfg, "norm_eps").fail_key("norm_eps", "must be > 0");
  return eps;
}
// norm_momentum: the weight of the OLD value in running = m * running + (1 - m) * batch, in [0, 1).
inline float read_momentum(const Scope& cfg, float def) {
  const float m = cfg.get_float("norm_momentum", def);
  if (!(m >= 0.f && m < 1.f)) key_owner(cfg, "norm_momentum").fail_key("norm_momentum", "must be in [0, 1) (weight of the old value)");
  return m;
}
// Statistics summed over several ranks (sync_bn, mabn_sync_stats=1) are combined on the host; a
// norm on the GPU cannot take part yet (t: any of its tensors).
inline void host_only_sync(const Tensor& t) {
  if (t.device() != Device::CPU)
    fail("statistics over several ranks (sync_bn, mabn_sync_stats=1) are not built for the GPU yet: train on the CPU (-cpu)");
}
// A non-empty per-channel tensor, for counts that must not be zero.
inline void require_channels(int channels, const char* norm) {
  if (channels <= 0) fail("norm=", norm, ": needs at least one channel, got ", channels);
}
}  // namespace norm_detail
}  // namespace mabdet
