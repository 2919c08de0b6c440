// [argmax]: the largest channel at each position, as a value (port 0, (N, 1, H, W), gradient to
// the winning channel) and as an integer (port `index`, (N, 1, H, W) channel numbers, no
// gradient). Picks a class where a detector head must, and is the graph's first layer with an
// Index output. Ties go to the lowest channel.
#include "layers/factories.h"

namespace mabdet {
namespace {

class Argmax : public Layer {
 public:
  std::string type() const override { return "argmax"; }
  void to(Device d) override { host_only(d); }
  std::vector<Port> ports() const override { return {Port{}, Port{"index", Kind::Index, false}}; }

  Shape reshape(const std::vector<Shape>& in) override {
    const Shape& s = in.at(0);
    return Shape{s.n, 1, s.h, s.w};
  }

  void forward_ports(Context& ctx, const Inputs& in, const Outputs& out) override {
    const Tensor& x = *in[0];  // (N, C, H, W)
    MABDET_ASSERT(x.device() == Device::CPU, "argmax runs on the host");
    const Shape& s = x.shape();
    Tensor& y = *out.f[0];            // (N, 1, H, W)
    IndexTensor& idx = *out.index[0];  // (N, 1, H, W)
    idx.reshape(y.shape());
    const size_t hw = s.plane();
    for (int n = 0; n < s.n; ++n)
      for (size_t p = 0; p < hw; ++p) {
        const float* col = x.data() + size_t(n) * s.chw() + p;
        int best = 0;
        for (int c = 1; c < s.c; ++c)
          if (col[c * hw] > col[best * hw]) best = c;
        y[n * hw + p] = s.c ? col[best * hw] : 0.f;
        idx[n * hw + p] = best;
      }
  }

  void backward_ports(Context& ctx, const Inputs& in, const Outputs& out, const std::vector<const Tensor*>& dout,
                      const InputGrads& din) override {
    if (din.empty() || !din[0]) return;
    const Shape& s = in[0]->shape();
    const IndexTensor& idx = *out.index[0];
    const Tensor& dy = *dout[0];
    const size_t hw = s.plane();
    for (int n = 0; n < s.n; ++n)
      for (size_t p = 0; p < hw; ++p) (*din[0])[size_t(n) * s.chw() + idx[n * hw + p] * hw + p] += dy[n * hw + p];
  }
};

}  // namespace

std::unique_ptr<Layer> make_argmax(const Scope& cfg, const std::vector<Shape>& in, Rng& rng) {
  if (in.at(0).c < 1) cfg.sec.fail_section("argmax: the input has no channels");
  return std::make_unique<Argmax>();
}

}  // namespace mabdet
