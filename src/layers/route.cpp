// [route]: concatenation of the `from=` layers along channels (darknet's [route layers=...], but
// spelled with the generic from= key). A single input passes through unchanged.
#include "layers/factories.h"
#include "layers/factory_util.h"
#include "mabdet/ops.h"

namespace mabdet {
namespace {

class Route : public Layer {
 public:
  std::string type() const override { return "route"; }

  Shape reshape(const std::vector<Shape>& in) override {
    Shape o = in.at(0);
    for (size_t i = 1; i < in.size(); ++i) {
      if (in[i].n != o.n || in[i].h != o.h || in[i].w != o.w)
        fail("route: input ", i, " is ", in[i].str(), ", input 0 is ", in[0].str(),
             ": batch and spatial sizes must match");
      o.c += in[i].c;
    }
    return o;
  }

  void forward(Context& ctx, const Inputs& in, Tensor& out) override {
    const size_t per_image = out.shape().chw();  // out: (N, sum of C, H, W)
    for (int n = 0; n < out.n(); ++n) {
      size_t offset = 0;
      for (const Tensor* x : in) {
        const size_t chw = x->shape().chw();
        ops::copy(out.device(), chw, x->data() + n * chw, out.data() + n * per_image + offset);
        offset += chw;
      }
    }
  }

  bool backward_reads_inputs() const override { return false; }  // their shapes only
  bool backward_reads_output() const override { return false; }

  void backward(Context& ctx, const Inputs& in, const Tensor& out, const Tensor& dout,
                const InputGrads& din) override {
    const size_t per_image = dout.shape().chw();
    for (int n = 0; n < dout.n(); ++n) {
      size_t offset = 0;
      for (size_t i = 0; i < in.size(); ++i) {
        const size_t chw = in[i]->shape().chw();
        if (din[i]) ops::axpy(dout.device(), chw, 1.f, dout.data() + n * per_image + offset, din[i]->data() + n * chw);
        offset += chw;
      }
    }
  }
};

}  // namespace

std::unique_ptr<Layer> make_route(const Scope& cfg, const std::vector<Shape>& in, Rng& rng) {
  auto layer = std::make_unique<Route>();
  return reshaped(cfg.sec, std::move(layer), in);
}

}  // namespace mabdet
