#include "norms/batch_stats.h"

#include "mabdet/comm.h"
#include "norms/coeff_kern.h"
#include "ops/for_each_index.h"

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
  double count = 0;
  if (train_) {
    count = double(s.n) * s.plane();
    if (count < 2) fail("norm=", name(), ": training needs more than one value per channel, got input ", s.str());
    ops::norm_sum(x.device(), s, ops::Per::Channel, x.data(), sum_.data());
    ops::for_each_index(x.device(), C, norm_kern::BatchMean{sum_.data(), mean_.data(), count});
    ops::norm_centered_sumsq(x.device(), s, ops::Per::Channel, x.data(), mean_.data(), dot_.data());
  }
  forward_coefficients(ctx, count);
  ops::norm_affine(x.device(), s, ops::Per::Channel, x.data(), scale_.data(), shift_.data(), y.data());
}

void BatchStatsNorm::forward_coefficients(Context& ctx, double count) {
  const Renorm rn = renorm(ctx);
  ops::for_each_index(mean_.device(), mean_.c(),
                      norm_kern::BatchStatsForward{dot_.data(), affine_.gamma.data(), affine_.beta.data(), mean_.data(),
                                                   istd_.data(), scale_.data(), shift_.data(), running_mean_.data(),
                                                   running_var_.data(), rn.r, rn.d, count, eps_, rn.rmax, rn.dmax,
                                                   momentum_, train_});
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
  const Renorm rn = renorm(ctx);
  ops::norm_sum(dy.device(), s, ops::Per::Channel, dy.data(), sum_.data());                         // sum dy
  ops::norm_dot(dy.device(), s, ops::Per::Channel, dy.data(), x.data(), mean_.data(), dot_.data());  // sum dy (x-mean)
  ops::for_each_index(dy.device(), C,
                      norm_kern::BatchStatsBackward{istd_.data(), rn.r, rn.d, affine_.gamma.data(), sum_.data(),
                                                    dot_.data(), mean_.data(), affine_.dgamma.data(),
                                                    affine_.dbeta.data(), a_.data(), b_.data(), c_.data(),
                                                    double(s.n) * s.plane(), train_});
  ops::norm_backward(dy.device(), s, ops::Per::Channel, dy.data(), a_.data(), x.data(), train_ ? b_.data() : nullptr,
                     train_ ? c_.data() : nullptr, dx.data(), accumulate);
}

// The forward above with every sum taken over the ranks: the mean from the summed sums and
// counts, then the variance from the summed squared deviations about that mean (the same two
// passes as one process, so that 2 ranks x 2 images round like bn over 4 images).
void BatchStatsNorm::forward_synced(Context& ctx, const Tensor& x, Tensor& y) {
  host_only_sync(mean_);
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
  for (int c = 0; c < C; ++c) dot_[c] = float(red_[size_t(c)]);
  forward_coefficients(ctx, count);
  if (has) ops::norm_affine(x.device(), s, ops::Per::Channel, x.data(), scale_.data(), shift_.data(), y.data());
}

// bn's backward with sum dy and sum dy (x - mean) over all ranks in dx; dgamma and dbeta take
// this rank's sums only, since the trainer sums parameter gradients over the ranks afterwards.
void BatchStatsNorm::backward_synced(Context& ctx, const Tensor& x, const Tensor& dy, Tensor& dx, bool accumulate) {
  host_only_sync(mean_);
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
  const Renorm rd = renorm(ctx);
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

void BatchStatsNorm::to(Device d) {
  affine_.to(d);
  to_device(d, running_mean_, running_var_, mean_, istd_, scale_, shift_, sum_, dot_, a_, b_, c_);
}

std::vector<State> BatchStatsNorm::state() {
  return {{"norm.running_mean", &running_mean_, nullptr}, {"norm.running_var", &running_var_, nullptr}};
}

bool BatchStatsNorm::inference_affine(Tensor& scale, Tensor& shift) const {
  const int C = running_var_.c();
  MABDET_ASSERT(scale.device() == running_var_.device() && shift.device() == running_var_.device());
  scale.reshape(1, C);
  shift.reshape(1, C);
  ops::for_each_index(running_var_.device(), C,
                      norm_kern::BatchStatsInference{affine_.gamma.data(), affine_.beta.data(), running_mean_.data(),
                                                     running_var_.data(), scale.data(), shift.data(), eps_});
  return true;
}
}  // namespace mabdet::norm_detail
