// What bn and brn share: per-channel batch statistics in training, running statistics (PyTorch's
// conventions: biased batch variance, unbiased running variance) at inference, and the backward
// through the batch statistics. brn differs only in the affine map it builds from the statistics
// and in its constants r and d, so checkpoints and inference of the two mean the same thing.
// sync_bn is bn with sync_ set: in training over several ranks (ctx.comm) the statistics are those
// of the union of the ranks' batches (summed with the counts, so ranks may hold different
// numbers of values, or none), and so are the backward's two sums; on one rank the code path is
// bn's, untouched.
#pragma once
#include "norms/factories.h"

namespace mabdet::norm_detail {
class BatchStatsNorm : public Norm {
 public:
  BatchStatsNorm(int channels, float eps, float momentum);
  void forward(Context& ctx, const Tensor& x, Tensor& y) final;
  void backward(Context& ctx, const Tensor& x, const Tensor& dy, Tensor& dx, bool accumulate) final;
  std::vector<Param> params() final { return affine_.params(); }
  std::vector<State> state() final;
  void to(Device d) override;
  bool inference_affine(Tensor& scale, Tensor& shift) const final;

 protected:
  // brn's renormalization in a training forward: where r_ and d_ live, and the limits r_max and
  // d_max at this iteration. Null pointers (the default): plain batch norm.
  struct Renorm {
    float *r = nullptr, *d = nullptr;
    double rmax = 1, dmax = 0;
  };
  virtual Renorm renorm(const Context& ctx) { return {}; }
  // The per-channel step of the forward once dot_ holds the sum of squared deviations over
  // `count` values (training) or from the running statistics (count 0): istd_, scale_, shift_,
  // brn's r and d, then the running statistics (coeff_kern.h's BatchStatsForward).
  void forward_coefficients(Context& ctx, double count);

  float eps_, momentum_;
  bool sync_ = false;  // sync_bn
  Affine affine_;
  Tensor running_mean_, running_var_;  // 1 x C, state
  bool train_ = false;                 // mode of the last forward, which backward differentiates
  Tensor mean_, istd_;                 // 1 x C, statistics the last forward normalized with
  Tensor scale_, shift_, sum_, dot_, a_, b_, c_;  // 1 x C scratch

 private:
  // sync_bn in training over several ranks; x may be empty (this rank then adds nothing to the
  // sums but still takes part in every all-reduce, or the others would wait for it).
  void forward_synced(Context& ctx, const Tensor& x, Tensor& y);
  void backward_synced(Context& ctx, const Tensor& x, const Tensor& dy, Tensor& dx, bool accumulate);
  bool synced_ = false;      // the last forward normalized with statistics over the ranks
  double synced_count_ = 0;  // values per channel over all ranks in that forward
  std::vector<double> red_;  // all-reduce buffer (double: the sums of many ranks' float sums)
};
}  // namespace mabdet::norm_detail
