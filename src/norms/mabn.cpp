// norm=mabn: Moving Average Batch Normalization (Yan et al., ICLR 2020), exactly as
// /work/shared/MABN.md restates it. No mean statistic (the conv in front centres its filters
// instead, hence default_centralize); the forward's E[x^2] and the backward's E[g*z] are simple
// moving averages over the last m training iterations, so 1-2 images per GPU see the statistics of
// a simulated batch m times larger. Inference is a fixed per-channel affine map.
// Over data-parallel ranks MABN stays per rank (its point: no communication in the layers). With
// mabn_sync_stats=1 the per-iteration statistics that enter the moving averages (E[x^2] and
// E[g*z]) are instead those of all ranks' values together, so every rank holds the same buffers
// and running_var and the SMA spans m iterations of every rank's images; on one rank that is
// plain mabn.
#include <algorithm>

#include "mabdet/comm.h"
#include "norms/coeff_kern.h"
#include "norms/factories.h"
#include "ops/for_each_index.h"

namespace mabdet {
namespace {
class Mabn : public Norm {
 public:
  Mabn(int channels, float eps, float momentum, int buffer, int warmup, bool sync_stats)
      : eps_(eps), momentum_(momentum), m_(buffer), warmup_(warmup), sync_stats_(sync_stats), affine_(channels),
        running_var_(1, channels), buf_x2_(buffer, channels), buf_gz_(buffer, channels) {
    running_var_.fill(1.f);
    buf_x2_.zero();
    buf_gz_.zero();
    for (Tensor* t : {&s_, &r_, &a_, &b_, &sum_, &dot_}) t->reshape(1, channels);
  }
  std::string name() const override { return "mabn"; }
  void to(Device d) override {
    affine_.to(d);
    to_device(d, running_var_, buf_x2_, buf_gz_, s_, r_, a_, b_, sum_, dot_);
  }
  bool default_centralize() const override { return true; }

  void forward(Context& ctx, const Tensor& x, Tensor& y) override {
    synced_ = sync_stats_ && ctx.train && distributed(ctx.comm);
    // An empty batch (a head given no RoIs) is no iteration of the moving averages: t, the buffers
    // and running_var stay, so the SMA spans the last m batches that had values. With synced
    // statistics an empty rank still takes part, and the iteration is skipped only when every
    // rank's batch is empty.
    if (x.empty() && !synced_) return;
    const Shape& s = x.shape();
    const int C = running_var_.c();
    train_ = ctx.train;
    if (train_) {
      const size_t count = size_t(s.n) * s.plane();
      if (!x.empty()) ops::norm_centered_sumsq(x.device(), s, ops::Per::Channel, x.data(), nullptr, dot_.data());  // sum x^2
      if (synced_) {
        norm_detail::host_only_sync(running_var_);
        red_.assign(size_t(C) + 1, 0.0);
        for (int c = 0; c < C && count; ++c) red_[size_t(c)] = dot_[c];
        red_[size_t(C)] = double(count);
        ctx.comm->allreduce_sum(red_.data(), red_.size(), Device::CPU);
        synced_count_ = red_[size_t(C)];
        if (synced_count_ == 0) return;  // train_ is set: backward sees the synced empty iteration
      }
      ++t_;
      const int row = int(t_ % m_);
      if (synced_) {  // the row from the ranks' summed statistic, on the host (host_only_sync)
        float* rw = &buf_x2_[size_t(row) * C];
        for (int c = 0; c < C; ++c) rw[c] = float(red_[size_t(c)] / synced_count_);
      }
      // r's clamp: [1, 1] (no renormalization) until the running statistic has settled.
      const double rmax = t_ <= std::max<int64_t>(1000, warmup_) ? 1.0 : 5.0;
      ops::for_each_index(running_var_.device(), C,
                          norm_kern::MabnForward{synced_ ? nullptr : dot_.data(), affine_.gamma.data(), buf_x2_.data(),
                                                 s_.data(), r_.data(), a_.data(), running_var_.data(), m_, row, C,
                                                 double(count), rmax, eps_, momentum_, in_warmup()});
      if (!x.empty()) ops::norm_affine(x.device(), s, ops::Per::Channel, x.data(), a_.data(), affine_.beta.data(), y.data());
    } else {
      inference_scale(a_);
      ops::norm_affine(x.device(), s, ops::Per::Channel, x.data(), a_.data(), affine_.beta.data(), y.data());
    }
  }

  // Training (MABN.md): g = dy * gamma * r, z = x / s, gz = E[g z] (SMA'd into mgz),
  //   dx = (g - z * mgz) / s = (gamma r / s) dy - (mgz / s^2) x,
  //   dgamma = sum dy r z = (r / s) sum dy x,  dbeta = sum dy.
  // Inference: y = a x + beta with a = gamma / sqrt(running_var + eps) constant.
  void backward(Context& ctx, const Tensor& x, const Tensor& dy, Tensor& dx, bool accumulate) override {
    // Adds zero, and writes no buf_gz row: row t % m belongs to the last non-empty forward.
    // Synced: the forward decided for all ranks alike whether this iteration exists.
    if (synced_ && synced_count_ == 0) return;
    if (x.empty() && !synced_) return;
    const Shape& s = x.shape();
    const int C = running_var_.c();
    if (!x.empty()) {
      ops::norm_sum(dy.device(), s, ops::Per::Channel, dy.data(), sum_.data());                   // sum dy
      ops::norm_dot(dy.device(), s, ops::Per::Channel, dy.data(), x.data(), nullptr, dot_.data());  // sum dy x
    } else {
      sum_.zero();
      dot_.zero();
    }
    if (train_) {
      const double count = synced_ ? synced_count_ : double(s.n) * s.plane();
      if (synced_) {  // sum dy x over all ranks' values; dgamma below keeps this rank's own
        red_.assign(dot_.data(), dot_.data() + C);
        ctx.comm->allreduce_sum(red_.data(), red_.size(), Device::CPU);
      }
      ops::for_each_index(running_var_.device(), C,
                          norm_kern::MabnBackward{sum_.data(), dot_.data(), affine_.gamma.data(), r_.data(), s_.data(),
                                                  synced_ ? red_.data() : nullptr, buf_gz_.data(), affine_.dgamma.data(),
                                                  affine_.dbeta.data(), b_.data(), m_, int(t_ % m_), C, count,
                                                  in_warmup()});
      if (!x.empty())
        ops::norm_backward(dy.device(), s, ops::Per::Channel, dy.data(), a_.data(), x.data(), b_.data(), nullptr,
                           dx.data(), accumulate);
    } else {
      ops::for_each_index(running_var_.device(), C,
                          norm_kern::MabnInference{affine_.gamma.data(), running_var_.data(), sum_.data(), dot_.data(),
                                                   nullptr, affine_.dgamma.data(), affine_.dbeta.data(), eps_, true});
      ops::norm_backward(dy.device(), s, ops::Per::Channel, dy.data(), a_.data(), nullptr, nullptr, nullptr, dx.data(),
                         accumulate);
    }
  }

  std::vector<Param> params() override { return affine_.params(); }
  std::vector<State> state() override {
    return {{"norm.running_var", &running_var_, nullptr},
            {"norm.buf_x2", &buf_x2_, nullptr},
            {"norm.buf_gz", &buf_gz_, nullptr},
            {"norm.t", nullptr, &t_}};
  }
  bool inference_affine(Tensor& scale, Tensor& shift) const override {
    inference_scale(scale);
    shift.copy_from(affine_.beta);
    return true;
  }

 private:
  // Batch statistics only, while the buffer is not yet full or during warm-up (MABN.md).
  bool in_warmup() const { return t_ <= m_ || t_ < warmup_; }
  void inference_scale(Tensor& scale) const {
    const int C = running_var_.c();
    MABDET_ASSERT(scale.device() == running_var_.device());
    scale.reshape(1, C);
    ops::for_each_index(running_var_.device(), C,
                        norm_kern::MabnInference{affine_.gamma.data(), running_var_.data(), nullptr, nullptr,
                                                 scale.data(), nullptr, nullptr, eps_, false});
  }

  float eps_, momentum_;
  int m_, warmup_;
  bool sync_stats_;       // mabn_sync_stats=1
  bool synced_ = false;   // the last forward took its statistic over the ranks
  double synced_count_ = 0;  // values per channel over all ranks in that forward
  std::vector<double> red_;  // all-reduce buffer
  norm_detail::Affine affine_;
  // State: running_var (1 x C, starts at 1), the SMA buffers (m x C, row t % m holds iteration
  // t's statistic, start at 0), and the counter t of non-empty training forwards (the first sees 1).
  Tensor running_var_, buf_x2_, buf_gz_;
  int64_t t_ = 0;
  bool train_ = false;  // mode of the last forward, which backward differentiates
  Tensor s_, r_;        // 1 x C: sqrt(var + eps) and r of the last training forward
  Tensor a_;            // 1 x C: x's coefficient in the last forward (gamma r / s, or inference's)
  Tensor b_, sum_, dot_;  // 1 x C scratch
};
}  // namespace

std::unique_ptr<Norm> make_mabn_norm(const Scope& cfg, int channels, bool) {
  norm_detail::require_channels(channels, "mabn");
  const float eps = norm_detail::read_eps(cfg), momentum = norm_detail::read_momentum(cfg, 0.98f);
  const int buffer = cfg.get_int("mabn_buffer", 16), warmup = cfg.get_int("mabn_warmup", 100);
  if (buffer < 1) norm_detail::key_owner(cfg, "mabn_buffer").fail_key("mabn_buffer", "must be >= 1 (iterations in the moving average)");
  if (warmup < 0) norm_detail::key_owner(cfg, "mabn_warmup").fail_key("mabn_warmup", "must be >= 0 (iterations)");
  const bool sync_stats = cfg.get_bool("mabn_sync_stats", false);
  return std::make_unique<Mabn>(channels, eps, momentum, buffer, warmup, sync_stats);
}

}  // namespace mabdet
