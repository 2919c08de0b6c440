// norm=gn: GroupNorm (Wu & He 2018). Each sample's channels are split into gn_groups groups and
// normalized by that group's mean and biased variance, then scaled by a learnable per-channel
// gamma/beta. No batch statistics, so it behaves the same at any batch size and identically in
// training and inference; the backward is the exact gradient through the group statistics.
// Statistics are per (sample, group); the per-plane ops see them expanded to each (n, c) plane.
#include "norms/coeff_kern.h"
#include "norms/factories.h"
#include "ops/for_each_index.h"

namespace mabdet {
namespace {
class GroupNorm : public Norm {
 public:
  GroupNorm(int channels, int groups, float eps) : groups_(groups), eps_(eps), affine_(channels) {}
  std::string name() const override { return "gn"; }
  void to(Device d) override {
    affine_.to(d);
    to_device(d, mean_, rstd_, scale_, shift_, psum_, pdot_, a_, b_, c_);
  }

  void forward(Context& ctx, const Tensor& x, Tensor& y) override {
    if (x.empty()) return;  // no samples, or empty planes: no group statistics (count would be 0)
    const Shape& s = x.shape();
    const int N = s.n, C = s.c, cg = C / groups_;
    const double count = double(cg) * s.plane();
    for (Tensor* t : {&mean_, &rstd_, &scale_, &shift_, &psum_, &pdot_}) t->reshape(1, N * C);
    const int G = N * groups_;
    ops::norm_sum(x.device(), s, ops::Per::Plane, x.data(), psum_.data());
    ops::for_each_index(x.device(), G, norm_kern::GroupMean{psum_.data(), mean_.data(), C, cg, groups_, count});
    ops::norm_centered_sumsq(x.device(), s, ops::Per::Plane, x.data(), mean_.data(), pdot_.data());
    ops::for_each_index(x.device(), G,
                        norm_kern::GroupForward{pdot_.data(), affine_.gamma.data(), affine_.beta.data(), mean_.data(),
                                                rstd_.data(), scale_.data(), shift_.data(), C, cg, groups_, count, eps_});
    ops::norm_affine(x.device(), s, ops::Per::Plane, x.data(), scale_.data(), shift_.data(), y.data());
  }

  // Per (n, group) with xhat = (x - mean) * rstd and dxhat = dy * gamma[c]:
  //   dx = rstd * (dxhat - mean_group(dxhat) - xhat * mean_group(dxhat * xhat))
  void backward(Context& ctx, const Tensor& x, const Tensor& dy, Tensor& dx, bool accumulate) override {
    if (x.empty()) return;  // adds zero
    const Shape& s = x.shape();
    const int N = s.n, C = s.c, cg = C / groups_;
    const double count = double(cg) * s.plane();
    for (Tensor* t : {&a_, &b_, &c_}) t->reshape(1, N * C);
    ops::norm_sum(dy.device(), s, ops::Per::Plane, dy.data(), psum_.data());                       // sum dy
    ops::norm_dot(dy.device(), s, ops::Per::Plane, dy.data(), x.data(), mean_.data(), pdot_.data());  // sum dy (x-mean)
    ops::for_each_index(dy.device(), C,
                        norm_kern::GroupParamGrads{psum_.data(), pdot_.data(), rstd_.data(), affine_.dgamma.data(),
                                                   affine_.dbeta.data(), N, C});
    ops::for_each_index(dy.device(), N * groups_,
                        norm_kern::GroupBackward{psum_.data(), pdot_.data(), rstd_.data(), affine_.gamma.data(),
                                                 mean_.data(), a_.data(), b_.data(), c_.data(), C, cg, groups_, count});
    ops::norm_backward(dy.device(), s, ops::Per::Plane, dy.data(), a_.data(), x.data(), b_.data(), c_.data(), dx.data(),
                       accumulate);
  }

  std::vector<Param> params() override { return affine_.params(); }

 private:
  int groups_;
  float eps_;
  norm_detail::Affine affine_;
  Tensor mean_, rstd_;  // 1 x N*C: the last forward's group statistics, expanded per plane
  Tensor scale_, shift_, psum_, pdot_, a_, b_, c_;  // 1 x N*C scratch
};
}  // namespace

std::unique_ptr<Norm> make_gn_norm(const Scope& cfg, int channels, bool) {
  norm_detail::require_channels(channels, "gn");
  const int groups = cfg.get_int("gn_groups", 32);
  if (groups < 1 || channels % groups != 0)
    norm_detail::key_owner(cfg, "gn_groups").fail_key("gn_groups", cat("must be >= 1 and divide the layer's ", channels, " channels (got ", groups, ")"));
  return std::make_unique<GroupNorm>(channels, groups, norm_detail::read_eps(cfg));
}

}  // namespace mabdet
