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
#include <algorithm>

#include "norms/factories.h"

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

class BatchRenorm : public Norm {
 public:
  BatchRenorm(int channels, float eps, float momentum, const BrnRamp& ramp)
      : eps_(eps), momentum_(momentum), ramp_(ramp), affine_(channels), running_mean_(1, channels),
        running_var_(1, channels) {
    running_mean_.zero();
    running_var_.fill(1.f);
    for (Tensor* t : {&mean_, &istd_, &r_, &d_, &scale_, &shift_, &sum_, &dot_, &a_, &b_, &c_}) t->reshape(1, channels);
  }
  std::string name() const override { return "brn"; }

  void forward(Context& ctx, const Tensor& x, Tensor& y) override {
    const Shape& s = x.shape();
    const int C = s.c;
    train_ = ctx.train;
    if (train_) {
      const size_t count = size_t(s.n) * s.plane();
      if (count < 2) fail("norm=brn: training needs more than one value per channel, got input ", s.str());
      const auto [rmax, dmax] = ramp_.at(ctx.iteration);
      ops::norm_sum(x.device(), s, ops::Per::Channel, x.data(), sum_.data());
      for (int c = 0; c < C; ++c) mean_[c] = float(double(sum_[c]) / count);
      ops::norm_centered_sumsq(x.device(), s, ops::Per::Channel, x.data(), mean_.data(), dot_.data());
      for (int c = 0; c < C; ++c) {
        const double var = double(dot_[c]) / count, sigma_b = std::sqrt(var + eps_);
        const double sigma = std::sqrt(double(running_var_[c]) + eps_);
        const double r = std::clamp(sigma_b / sigma, 1.0 / rmax, rmax);
        const double d = std::clamp((double(mean_[c]) - running_mean_[c]) / sigma, -dmax, dmax);
        istd_[c] = float(1.0 / sigma_b);
        r_[c] = float(r);
        d_[c] = float(d);
        scale_[c] = float(affine_.gamma[c] * r / sigma_b);
        shift_[c] = float(affine_.beta[c] + affine_.gamma[c] * d - mean_[c] * (affine_.gamma[c] * r / sigma_b));
        running_mean_[c] = momentum_ * running_mean_[c] + (1 - momentum_) * mean_[c];
        running_var_[c] = float(momentum_ * running_var_[c] + (1 - momentum_) * (double(dot_[c]) / (count - 1)));
      }
    } else {
      for (int c = 0; c < C; ++c) {
        mean_[c] = running_mean_[c];
        istd_[c] = float(1.0 / std::sqrt(double(running_var_[c]) + eps_));
        r_[c] = 1.f;
        d_[c] = 0.f;
        scale_[c] = affine_.gamma[c] * istd_[c];
        shift_[c] = affine_.beta[c] - mean_[c] * scale_[c];
      }
    }
    ops::norm_affine(x.device(), s, ops::Per::Channel, x.data(), scale_.data(), shift_.data(), y.data());
  }

  // Training, xhat = (x - mean_B) / sigma_B, r and d constants:
  //   dx = gamma * r / sigma_B * (dy - mean(dy) - xhat * mean(dy * xhat)),
  //   dgamma = sum dy * (r * xhat + d),  dbeta = sum dy.
  // Inference (r = 1, d = 0, running statistics): dx = gamma / sigma * dy.
  void backward(Context& ctx, const Tensor& x, const Tensor& y, const Tensor& dy, Tensor& dx) override {
    const Shape& s = x.shape();
    const int C = s.c;
    ops::norm_sum(dy.device(), s, ops::Per::Channel, dy.data(), sum_.data());                         // sum dy
    ops::norm_dot(dy.device(), s, ops::Per::Channel, dy.data(), x.data(), mean_.data(), dot_.data());  // sum dy (x-mean)
    const double count = double(s.n) * s.plane();
    for (int c = 0; c < C; ++c) {
      const double istd = istd_[c], r = r_[c], a = double(affine_.gamma[c]) * r * istd;
      affine_.dgamma[c] += float(r * istd * dot_[c] + d_[c] * double(sum_[c]));
      affine_.dbeta[c] += sum_[c];
      a_[c] = float(a);
      if (train_) {
        const double b = -a * istd * istd * dot_[c] / count;  // times (x - mean)
        b_[c] = float(b);
        c_[c] = float(-a * sum_[c] / count - b * mean_[c]);
      }
    }
    ops::norm_backward_add(dy.device(), s, ops::Per::Channel, dy.data(), a_.data(), x.data(),
                           train_ ? b_.data() : nullptr, train_ ? c_.data() : nullptr, dx.data());
  }

  std::vector<Param> params() override { return affine_.params(); }
  std::vector<State> state() override {
    return {{"norm.running_mean", &running_mean_, nullptr}, {"norm.running_var", &running_var_, nullptr}};
  }
  bool inference_affine(Tensor& scale, Tensor& shift) const override {
    const int C = running_var_.c();
    scale.reshape(1, C);
    shift.reshape(1, C);
    for (int c = 0; c < C; ++c) {
      scale[c] = float(affine_.gamma[c] / std::sqrt(double(running_var_[c]) + eps_));
      shift[c] = affine_.beta[c] - running_mean_[c] * scale[c];
    }
    return true;
  }

 private:
  float eps_, momentum_;
  BrnRamp ramp_;
  norm_detail::Affine affine_;
  Tensor running_mean_, running_var_;  // 1 x C, state
  bool train_ = false;                 // mode of the last forward, which backward differentiates
  Tensor mean_, istd_, r_, d_;         // 1 x C: what the last forward normalized with
  Tensor scale_, shift_, sum_, dot_, a_, b_, c_;  // 1 x C scratch
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
