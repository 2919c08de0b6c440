// [upsample]: nearest-neighbour upsampling by an integer factor (FPN's top-down path).
#include "layers/factories.h"
#include "layers/factory_util.h"
#include "mabdet/ops.h"

namespace mabdet {
namespace {

class Upsample : public Layer {
 public:
  explicit Upsample(int stride) : stride_(stride) {}
  std::string type() const override { return "upsample"; }
  std::string size_str() const override { return cat("x", stride_); }

  Shape reshape(const std::vector<Shape>& in) override {
    in_ = in.at(0);
    return Shape{in_.n, in_.c, checked_side(int64_t(in_.h) * stride_, "upsample"),
                 checked_side(int64_t(in_.w) * stride_, "upsample")};
  }
  void forward(Context& ctx, const Inputs& in, Tensor& out) override {
    const Tensor& x = *in[0];  // (N, C, H, W) -> out (N, C, H*s, W*s)
    ops::upsample_nearest(x.device(), x.shape(), stride_, x.data(), out.data());
  }
  bool backward_reads_inputs() const override { return false; }  // their shapes only
  bool backward_reads_output() const override { return false; }

  void backward(Context& ctx, const Inputs& in, const Tensor& out, const Tensor& dout,
                const InputGrads& din) override {
    if (din.empty() || !din[0]) return;
    ops::upsample_nearest_backward(dout.device(), in_, stride_, dout.data(), din[0]->data());
  }

 private:
  int stride_;
  Shape in_;  // the last reshape's input shape
};

}  // namespace

std::unique_ptr<Layer> make_upsample(const Scope& cfg, const std::vector<Shape>& in, Rng& rng) {
  const int stride = positive_key(cfg.sec, "stride", 2);
  return std::make_unique<Upsample>(stride);
}

}  // namespace mabdet
