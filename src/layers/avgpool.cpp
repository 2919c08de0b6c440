// [avgpool]: global average pooling (darknet's), (N, C, H, W) -> (N, C, 1, 1).
#include "layers/factories.h"
#include "mabdet/ops.h"

namespace mabdet {
namespace {

class Avgpool : public Layer {
 public:
  std::string type() const override { return "avgpool"; }
  Shape reshape(const std::vector<Shape>& in) override {
    in_ = in.at(0);
    return Shape{in_.n, in_.c, 1, 1};
  }
  void forward(Context& ctx, const Inputs& in, Tensor& out) override {
    const Tensor& x = *in[0];  // (N, C, H, W)
    ops::plane_mean(x.device(), x.shape(), x.data(), out.data());
  }
  bool backward_reads_inputs() const override { return false; }  // their shapes only
  bool backward_reads_output() const override { return false; }

  void backward(Context& ctx, const Inputs& in, const Tensor& out, const Tensor& dout,
                const InputGrads& din) override {
    if (din.empty() || !din[0]) return;
    ops::plane_mean_backward(dout.device(), in_, dout.data(), din[0]->data());
  }

 private:
  Shape in_;  // the last reshape's input shape
};

}  // namespace

std::unique_ptr<Layer> make_avgpool(const Scope& cfg, const std::vector<Shape>& in, Rng& rng) {
  return std::make_unique<Avgpool>();
}

}  // namespace mabdet
