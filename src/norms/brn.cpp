// norm=brn: Batch Renormalization (Ioffe 2017). Training normalizes by the batch statistics and
// then corrects towards the running ones:
//   y = gamma * ((x - mean_B) / sigma_B * r + d) + beta,
//   r = clip(sigma_B / sigma, 1/r_max, r_max),  d = clip((mean_B - mean) / sigma, -d_max, d_max),
// with sigma_B = sqrt(var_B + eps) (biased), sigma = sqrt(running_var + eps). r and d are constants
// in the backward (the paper's stop_gradient), which is then BN's backward scaled by r. Running
// statistics are updated like bn's (unbiased running variance), so bn and brn checkpoints mean the
// same thing, and inference is bn's. r_max and d_max ramp from 1 and 0 (plain BN, while the
// running statistics are still poor) to brn_rmax and brn_dmax, linearly in optimizer iterations
// between brn_ramp_start and brn_ramp_end.
#include "norms/batch_stats.h"

namespace mabdet {
namespace {
struct BrnRamp {
  float rmax, dmax;
  int64_t start, end;
  // (r_max, d_max) after `iteration` optimizer steps.
  std::pair<double, double> at(int64_t iteration) const {
    double f = iteration >= end ? 1.0 : iteration <= start ? 0.0 : double(iteration - start) / double(end - start);
    return {1.0 + (rmax - 1.0) * f, dmax * f};
  }
};

class BatchRenorm : public norm_detail::BatchStatsNorm {
 public:
  BatchRenorm(int channels, float eps, float momentum, const BrnRamp& ramp)
      : BatchStatsNorm(channels, eps, momentum), ramp_(ramp), r_(1, channels), d_(1, channels) {}
  std::string name() const override { return "brn"; }
  void to(Device d) override {
    BatchStatsNorm::to(d);
    to_device(d, r_, d_);
  }

 protected:
  // Renormalizes in training within this iteration's limits; the forward writes r = 1, d = 0 at
  // inference, which is then bn's.
  Renorm renorm(const Context& ctx) override {
    const auto [rmax, dmax] = ramp_.at(ctx.iteration);
    return {r_.data(), d_.data(), rmax, dmax};
  }

 private:
  BrnRamp ramp_;
  Tensor r_, d_;  // 1 x C: the constants the last forward renormalized with
};
}  // namespace

std::unique_ptr<Norm> make_brn_norm(const Scope& cfg, int channels, bool) {
  norm_detail::require_channels(channels, "brn");
  const float eps = norm_detail::read_eps(cfg), momentum = norm_detail::read_momentum(cfg, 0.9f);
  BrnRamp ramp{cfg.get_float("brn_rmax", 3.f), cfg.get_float("brn_dmax", 5.f), cfg.get_int("brn_ramp_start", 500),
               cfg.get_int("brn_ramp_end", 4000)};
  if (!(ramp.rmax >= 1.f)) norm_detail::key_owner(cfg, "brn_rmax").fail_key("brn_rmax", "must be >= 1");
  if (!(ramp.dmax >= 0.f)) norm_detail::key_owner(cfg, "brn_dmax").fail_key("brn_dmax", "must be >= 0");
  if (ramp.start < 0) norm_detail::key_owner(cfg, "brn_ramp_start").fail_key("brn_ramp_start", "must be >= 0 (iterations)");
  if (ramp.end < ramp.start)
    norm_detail::key_owner(cfg, "brn_ramp_end").fail_key("brn_ramp_end", cat("must be >= brn_ramp_start (", ramp.start, ")"));
  return std::make_unique<BatchRenorm>(channels, eps, momentum, ramp);
}

}  // namespace mabdet
