// norm=frozen_bn: Detectron2's FrozenBatchNorm2d semantics. A BatchNorm whose gamma, beta and
// running statistics are fixed (loaded from a pretrained checkpoint), so training and inference
// both apply y = x * scale + shift with scale = gamma / sqrt(running_var + eps) and
// shift = beta - running_mean * scale. Nothing is learned: all four tensors are state(), and only
// dL/dx = scale * dL/dy flows back. The usual choice for a pretrained backbone fine-tuned at 1-2
// images per GPU.
#include "norms/coeff_kern.h"
#include "norms/factories.h"
#include "ops/for_each_index.h"

namespace mabdet {
namespace {
class FrozenBatchNorm : public Norm {
 public:
  FrozenBatchNorm(int channels, float eps)
      : eps_(eps), gamma_(1, channels), beta_(1, channels), running_mean_(1, channels), running_var_(1, channels),
        scale_(1, channels), shift_(1, channels) {
    gamma_.fill(1.f);
    beta_.zero();
    running_mean_.zero();
    // 1 - eps, so that a layer that was never loaded is the exact identity.
    running_var_.fill(1.f - eps);
  }
  std::string name() const override { return "frozen_bn"; }
  void to(Device d) override { to_device(d, gamma_, beta_, running_mean_, running_var_, scale_, shift_); }

  void forward(Context& ctx, const Tensor& x, Tensor& y) override {
    inference_affine(scale_, shift_);
    ops::norm_affine(x.device(), x.shape(), ops::Per::Channel, x.data(), scale_.data(), shift_.data(), y.data());
  }
  // scale_ is the last forward's (the contract: backward follows the forward it differentiates).
  void backward(Context& ctx, const Tensor& x, const Tensor& dy, Tensor& dx, bool accumulate) override {
    ops::norm_backward(dy.device(), dy.shape(), ops::Per::Channel, dy.data(), scale_.data(), nullptr, nullptr, nullptr,
                       dx.data(), accumulate);
  }
  std::vector<State> state() override {
    return {{"norm.gamma", &gamma_, nullptr},
            {"norm.beta", &beta_, nullptr},
            {"norm.running_mean", &running_mean_, nullptr},
            {"norm.running_var", &running_var_, nullptr}};
  }
  bool inference_affine(Tensor& scale, Tensor& shift) const override {
    const int C = gamma_.c();
    MABDET_ASSERT(scale.device() == gamma_.device() && shift.device() == gamma_.device());
    scale.reshape(1, C);
    shift.reshape(1, C);
    ops::for_each_index(gamma_.device(), C,
                        norm_kern::FrozenAffine{gamma_.data(), beta_.data(), running_mean_.data(), running_var_.data(),
                                                scale.data(), shift.data(), eps_});
    return true;
  }

 private:
  float eps_;
  Tensor gamma_, beta_, running_mean_, running_var_;  // 1 x C, state (loaded, never learned)
  Tensor scale_, shift_;                              // 1 x C, the last forward's affine map
};
}  // namespace

std::unique_ptr<Norm> make_frozen_bn_norm(const Scope& cfg, int channels, bool) {
  norm_detail::require_channels(channels, "frozen_bn");
  return std::make_unique<FrozenBatchNorm>(channels, norm_detail::read_eps(cfg));
}

}  // namespace mabdet
