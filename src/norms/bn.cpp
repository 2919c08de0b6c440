// norm=bn: BatchNorm (Ioffe & Szegedy 2015) with PyTorch's conventions: training normalizes by the
// batch mean and biased variance and updates the running mean and the UNBIASED running variance;
// inference uses the running statistics. The backward is the exact gradient through the batch
// statistics. This is the norm that breaks at 1-2 images per GPU, kept as the baseline.
#include "norms/factories.h"

namespace mabdet {
namespace {
class BatchNorm : public Norm {
 public:
  BatchNorm(int channels, float eps, float momentum)
      : eps_(eps), momentum_(momentum), affine_(channels), running_mean_(1, channels), running_var_(1, channels) {
    running_mean_.zero();
    running_var_.fill(1.f);
    for (Tensor* t : {&mean_, &istd_, &scale_, &shift_, &sum_, &dot_, &a_, &b_, &c_}) t->reshape(1, channels);
  }
  std::string name() const override { return "bn"; }

  void forward(Context& ctx, const Tensor& x, Tensor& y) override {
    const Shape& s = x.shape();
    const int C = s.c;
    train_ = ctx.train;
    if (train_) {
      const size_t count = size_t(s.n) * s.plane();
      if (count < 2) fail("norm=bn: training needs more than one value per channel, got input ", s.str());
      ops::norm_sum(x.device(), s, ops::Per::Channel, x.data(), sum_.data());
      for (int c = 0; c < C; ++c) mean_[c] = float(double(sum_[c]) / count);
      ops::norm_centered_sumsq(x.device(), s, ops::Per::Channel, x.data(), mean_.data(), dot_.data());
      for (int c = 0; c < C; ++c) {
        const double var = double(dot_[c]) / count;
        istd_[c] = float(1.0 / std::sqrt(var + eps_));
        running_mean_[c] = momentum_ * running_mean_[c] + (1 - momentum_) * mean_[c];
        running_var_[c] = float(momentum_ * running_var_[c] + (1 - momentum_) * (double(dot_[c]) / (count - 1)));
      }
    } else {
      for (int c = 0; c < C; ++c) {
        mean_[c] = running_mean_[c];
        istd_[c] = float(1.0 / std::sqrt(double(running_var_[c]) + eps_));
      }
    }
    for (int c = 0; c < C; ++c) {
      scale_[c] = affine_.gamma[c] * istd_[c];
      shift_[c] = affine_.beta[c] - mean_[c] * scale_[c];
    }
    ops::norm_affine(x.device(), s, ops::Per::Channel, x.data(), scale_.data(), shift_.data(), y.data());
  }

  // With xhat = (x - mean) * istd and the batch statistics live (training):
  //   dx = gamma * istd * (dy - mean(dy) - xhat * mean(dy * xhat))
  // at inference the statistics are constants and dx = gamma * istd * dy.
  void backward(Context& ctx, const Tensor& x, const Tensor& y, const Tensor& dy, Tensor& dx) override {
    const Shape& s = x.shape();
    const int C = s.c;
    ops::norm_sum(dy.device(), s, ops::Per::Channel, dy.data(), sum_.data());                      // sum dy
    ops::norm_dot(dy.device(), s, ops::Per::Channel, dy.data(), x.data(), mean_.data(), dot_.data());  // sum dy (x-mean)
    const double count = double(s.n) * s.plane();
    for (int c = 0; c < C; ++c) {
      const double istd = istd_[c], a = double(affine_.gamma[c]) * istd;
      affine_.dgamma[c] += float(dot_[c] * istd);
      affine_.dbeta[c] += sum_[c];
      a_[c] = float(a);
      if (train_) {
        const double b = -a * istd * istd * dot_[c] / count;   // times (x - mean)
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
  norm_detail::Affine affine_;
  Tensor running_mean_, running_var_;  // 1 x C, state
  bool train_ = false;                 // mode of the last forward, which backward differentiates
  Tensor mean_, istd_;                 // 1 x C, statistics the last forward normalized with
  Tensor scale_, shift_, sum_, dot_, a_, b_, c_;  // 1 x C scratch
};
}  // namespace

std::unique_ptr<Norm> make_bn_norm(const Scope& cfg, int channels, bool) {
  norm_detail::require_channels(channels, "bn");
  return std::make_unique<BatchNorm>(channels, norm_detail::read_eps(cfg), norm_detail::read_momentum(cfg, 0.9f));
}

}  // namespace mabdet
