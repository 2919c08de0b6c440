// norm=none: the conv's own bias (or nothing with bias=0), so a conv never special-cases "no norm".
#include "norms/factories.h"

namespace mabdet {
namespace {
class NoneNorm : public Norm {
 public:
  NoneNorm(int channels, bool bias) : has_bias_(bias) {
    if (bias) {
      bias_.reshape(1, channels);
      bias_.zero();
      dbias_.reshape(1, channels);
      dbias_.zero();
    }
  }
  std::string name() const override { return "none"; }
  void forward(Context& ctx, const Tensor& x, Tensor& y) override {
    if (has_bias_) ops::channel_affine(x.device(), x.shape(), x.data(), nullptr, bias_.data(), y.data());
    else if (&y != &x) y.copy_from(x);
  }
  void backward(Context& ctx, const Tensor& x, const Tensor& dy, Tensor& dx, bool accumulate) override {
    if (has_bias_) ops::channel_sum(dy.device(), dy.shape(), dy.data(), dbias_.data(), true);
    if (accumulate) ops::axpy(dy.device(), dy.size(), 1.f, dy.data(), dx.data());
    else if (dx.data() != dy.data()) ops::copy(dy.device(), dy.size(), dy.data(), dx.data());
  }
  bool inference_affine(Tensor& scale, Tensor& shift) const override {
    const int C = bias_.c();
    if (!has_bias_) return false;  // no channel count kept without a bias; nothing to fold anyway
    scale.reshape(1, C);
    scale.fill(1.f);
    shift.copy_from(bias_);
    return true;
  }
  void to(Device d) override { to_device(d, bias_, dbias_); }
  std::vector<Param> params() override {
    if (!has_bias_) return {};
    return {{"bias", &bias_, &dbias_, 1.f, 0.f}};
  }

 private:
  bool has_bias_;
  Tensor bias_, dbias_;
};
}  // namespace

std::unique_ptr<Norm> make_none_norm(const Scope& cfg, int channels, bool bias_default) {
  return std::make_unique<NoneNorm>(channels, cfg.get_bool("bias", bias_default));
}

}  // namespace mabdet
