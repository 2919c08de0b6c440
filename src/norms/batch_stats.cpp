#include "norms/batch_stats.h"

namespace mabdet::norm_detail {
BatchStatsNorm::BatchStatsNorm(int channels, float eps, float momentum)
    : eps_(eps), momentum_(momentum), affine_(channels), running_mean_(1, channels), running_var_(1, channels) {
  running_mean_.zero();
  running_var_.fill(1.f);
  for (Tensor* t : {&mean_, &istd_, &scale_, &shift_, &sum_, &dot_, &a_, &b_, &c_}) t->reshape(1, channels);
}

void BatchStatsNorm::forward(Context& ctx, const Tensor& x, Tensor& y) {
  // An empty batch (a head given no RoIs) has no statistics: the output is empty and the running
  // statistics must not move. Returning before train_ is set leaves no trace for the next batch.
  if (x.empty()) return;
  const Shape& s = x.shape();
  const int C = s.c;
  train_ = ctx.train;
  if (train_) {
    const size_t count = size_t(s.n) * s.plane();
    if (count < 2) fail("norm=", name(), ": training needs more than one value per channel, got input ", s.str());
    ops::norm_sum(x.device(), s, ops::Per::Channel, x.data(), sum_.data());
    for (int c = 0; c < C; ++c) mean_[c] = float(double(sum_[c]) / count);
    ops::norm_centered_sumsq(x.device(), s, ops::Per::Channel, x.data(), mean_.data(), dot_.data());
    for (int c = 0; c < C; ++c) istd_[c] = float(1.0 / std::sqrt(double(dot_[c]) / count + eps_));
    set_affine(ctx, count);
    for (int c = 0; c < C; ++c) {
      running_mean_[c] = momentum_ * running_mean_[c] + (1 - momentum_) * mean_[c];
      running_var_[c] = float(momentum_ * running_var_[c] + (1 - momentum_) * (double(dot_[c]) / (count - 1)));
    }
  } else {
    for (int c = 0; c < C; ++c) {
      mean_[c] = running_mean_[c];
      istd_[c] = float(1.0 / std::sqrt(double(running_var_[c]) + eps_));
    }
    set_affine(ctx, 0);
  }
  ops::norm_affine(x.device(), s, ops::Per::Channel, x.data(), scale_.data(), shift_.data(), y.data());
}

void BatchStatsNorm::set_affine(Context&, size_t) {
  for (int c = 0; c < mean_.c(); ++c) {
    scale_[c] = affine_.gamma[c] * istd_[c];
    shift_[c] = affine_.beta[c] - mean_[c] * scale_[c];
  }
}

// With xhat = (x - mean) * istd and the batch statistics live (training):
//   dx = gamma * r * istd * (dy - mean(dy) - xhat * mean(dy * xhat)),
//   dgamma = sum dy * (r * xhat + d),  dbeta = sum dy;
// at inference the statistics are constants and dx = gamma * r * istd * dy.
void BatchStatsNorm::backward(Context& ctx, const Tensor& x, const Tensor& y, const Tensor& dy, Tensor& dx) {
  if (x.empty()) return;  // adds zero; the last non-empty forward's statistics stay as they were
  const Shape& s = x.shape();
  const int C = s.c;
  const Renorm rd = renorm();
  ops::norm_sum(dy.device(), s, ops::Per::Channel, dy.data(), sum_.data());                         // sum dy
  ops::norm_dot(dy.device(), s, ops::Per::Channel, dy.data(), x.data(), mean_.data(), dot_.data());  // sum dy (x-mean)
  const double count = double(s.n) * s.plane();
  for (int c = 0; c < C; ++c) {
    const double istd = istd_[c], r = rd.r ? rd.r[c] : 1.0, a = double(affine_.gamma[c]) * r * istd;
    double dgamma = r * istd * dot_[c];
    if (rd.d) dgamma += rd.d[c] * double(sum_[c]);
    affine_.dgamma[c] += float(dgamma);
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

std::vector<State> BatchStatsNorm::state() {
  return {{"norm.running_mean", &running_mean_, nullptr}, {"norm.running_var", &running_var_, nullptr}};
}

bool BatchStatsNorm::inference_affine(Tensor& scale, Tensor& shift) const {
  const int C = running_var_.c();
  scale.reshape(1, C);
  shift.reshape(1, C);
  for (int c = 0; c < C; ++c) {
    scale[c] = float(affine_.gamma[c] / std::sqrt(double(running_var_[c]) + eps_));
    shift[c] = affine_.beta[c] - running_mean_[c] * scale[c];
  }
  return true;
}
}  // namespace mabdet::norm_detail
