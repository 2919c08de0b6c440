#include "norms/batch_stats.h"

#include "mabdet/comm.h"

namespace mabdet::norm_detail {
BatchStatsNorm::BatchStatsNorm(int channels, float eps, float momentum)
    : eps_(eps), momentum_(momentum), affine_(channels), running_mean_(1, channels), running_var_(1, channels) {
  running_mean_.zero();
  running_var_.fill(1.f);
  for (Tensor* t : {&mean_, &istd_, &scale_, &shift_, &sum_, &dot_, &a_, &b_, &c_}) t->reshape(1, channels);
}

void BatchStatsNorm::forward(Context& ctx, const Tensor& x, Tensor& y) {
  synced_ = false;
  if (sync_ && ctx.train && distributed(ctx.comm)) return forward_synced(ctx, x, y);
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
void BatchStatsNorm::backward(Context& ctx, const Tensor& x, const Tensor& dy, Tensor& dx, bool accumulate) {
  if (synced_) return backward_synced(ctx, x, dy, dx, accumulate);
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
  ops::norm_backward(dy.device(), s, ops::Per::Channel, dy.data(), a_.data(), x.data(), train_ ? b_.data() : nullptr,
                     train_ ? c_.data() : nullptr, dx.data(), accumulate);
}

// The forward above with every sum taken over the ranks: the mean from the summed sums and
// counts, then the variance from the summed squared deviations about that mean (the same two
// passes as one process, so that 2 ranks x 2 images round like bn over 4 images).
void BatchStatsNorm::forward_synced(Context& ctx, const Tensor& x, Tensor& y) {
  const Shape& s = x.shape();
  const int C = mean_.c();
  const bool has = !x.empty();
  red_.assign(size_t(C) + 1, 0.0);
  if (has) {
    ops::norm_sum(x.device(), s, ops::Per::Channel, x.data(), sum_.data());
    for (int c = 0; c < C; ++c) red_[size_t(c)] = sum_[c];
    red_[size_t(C)] = double(s.n) * s.plane();
  }
  ctx.comm->allreduce_sum(red_.data(), red_.size(), Device::CPU);
  const double count = red_[size_t(C)];
  if (count == 0) return;  // no rank had values (heads given no RoIs): like bn's empty batch
  if (count < 2) fail("norm=sync_bn: training needs more than one value per channel over all ranks, got ", count);
  train_ = synced_ = true;
  synced_count_ = count;
  for (int c = 0; c < C; ++c) mean_[c] = float(red_[size_t(c)] / count);
  if (has) ops::norm_centered_sumsq(x.device(), s, ops::Per::Channel, x.data(), mean_.data(), dot_.data());
  else dot_.zero();
  for (int c = 0; c < C; ++c) red_[size_t(c)] = dot_[c];
  ctx.comm->allreduce_sum(red_.data(), size_t(C), Device::CPU);
  for (int c = 0; c < C; ++c) {
    dot_[c] = float(red_[size_t(c)]);
    istd_[c] = float(1.0 / std::sqrt(red_[size_t(c)] / count + eps_));
  }
  set_affine(ctx, size_t(count));
  for (int c = 0; c < C; ++c) {
    running_mean_[c] = momentum_ * running_mean_[c] + (1 - momentum_) * mean_[c];
    running_var_[c] = float(momentum_ * running_var_[c] + (1 - momentum_) * (red_[size_t(c)] / (count - 1)));
  }
  if (has) ops::norm_affine(x.device(), s, ops::Per::Channel, x.data(), scale_.data(), shift_.data(), y.data());
}

// bn's backward with sum dy and sum dy (x - mean) over all ranks in dx; dgamma and dbeta take
// this rank's sums only, since the trainer sums parameter gradients over the ranks afterwards.
void BatchStatsNorm::backward_synced(Context& ctx, const Tensor& x, const Tensor& dy, Tensor& dx, bool accumulate) {
  const Shape& s = x.shape();
  const int C = mean_.c();
  const bool has = !x.empty();
  if (has) {
    ops::norm_sum(dy.device(), s, ops::Per::Channel, dy.data(), sum_.data());
    ops::norm_dot(dy.device(), s, ops::Per::Channel, dy.data(), x.data(), mean_.data(), dot_.data());
  } else {
    sum_.zero();
    dot_.zero();
  }
  const Renorm rd = renorm();
  red_.resize(2 * size_t(C));
  for (int c = 0; c < C; ++c) {
    const double istd = istd_[c], r = rd.r ? rd.r[c] : 1.0;
    double dgamma = r * istd * dot_[c];
    if (rd.d) dgamma += rd.d[c] * double(sum_[c]);
    affine_.dgamma[c] += float(dgamma);
    affine_.dbeta[c] += sum_[c];
    red_[size_t(c)] = sum_[c];
    red_[size_t(C + c)] = dot_[c];
  }
  ctx.comm->allreduce_sum(red_.data(), red_.size(), Device::CPU);
  for (int c = 0; c < C; ++c) {
    const double istd = istd_[c], r = rd.r ? rd.r[c] : 1.0, a = double(affine_.gamma[c]) * r * istd;
    const double b = -a * istd * istd * red_[size_t(C + c)] / synced_count_;
    a_[c] = float(a);
    b_[c] = float(b);
    c_[c] = float(-a * red_[size_t(c)] / synced_count_ - b * mean_[c]);
  }
  if (has)
    ops::norm_backward(dy.device(), s, ops::Per::Channel, dy.data(), a_.data(), x.data(), b_.data(), c_.data(), dx.data(),
                       accumulate);
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
