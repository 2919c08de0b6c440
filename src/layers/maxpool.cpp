// [maxpool]: max over size x size windows with per-side padding that never wins (the max is taken
// over the real pixels of each window only); floor output size, like PyTorch's max_pool2d. The
// winning position of every output is kept for backward.
#include "layers/factories.h"
#include "layers/factory_util.h"
#include "mabdet/ops.h"

namespace mabdet {
namespace {

class Maxpool : public Layer {
 public:
  explicit Maxpool(ops::PoolGeom g) : g_(g) {}
  std::string type() const override { return "maxpool"; }
  void to(Device d) override { argmax_.to(d); }
  std::string size_str() const override { return cat(g_.size, "x", g_.size, "/", g_.stride); }

  Shape reshape(const std::vector<Shape>& in) override {
    const Shape& s = in.at(0);
    if (s.h + 2 * g_.pad < g_.size || s.w + 2 * g_.pad < g_.size)
      fail("maxpool: input ", s.h, "x", s.w, " is smaller than the ", g_.size, "x", g_.size, " window (padding ",
           g_.pad, ")");
    in_ = s;
    return Shape{s.n, s.c, checked_side(g_.out(s.h), "maxpool"), checked_side(g_.out(s.w), "maxpool")};
  }

  void forward(Context& ctx, const Inputs& in, Tensor& out) override {
    const Tensor& x = *in[0];  // (N, C, H, W)
    // The winners are what backward needs; a forward-only forward has no backward to keep them for.
    kept_ = !ctx.forward_only;
    if (kept_) argmax_.reshape(out.shape());
    ops::maxpool(x.device(), x.shape(), g_, x.data(), out.data(), kept_ ? argmax_.data() : nullptr);
  }

  bool backward_reads_inputs() const override { return false; }  // their shapes only
  bool backward_reads_output() const override { return false; }

  void backward(Context& ctx, const Inputs& in, const Tensor& out, const Tensor& dout,
                const InputGrads& din) override {
    if (din.empty() || !din[0]) return;
    MABDET_ASSERT(kept_, "maxpool: backward after a forward-only forward, which kept no winners");
    ops::maxpool_backward(dout.device(), in_, g_, dout.data(), argmax_.data(), din[0]->data());
  }

 private:
  ops::PoolGeom g_;
  Shape in_;             // the last reshape's input shape
  IndexTensor argmax_;   // (N, C, OH, OW) winning y*W + x in the input plane
  bool kept_ = false;    // the last forward filled argmax_
};

}  // namespace

std::unique_ptr<Layer> make_maxpool(const Scope& cfg, const std::vector<Shape>& in, Rng& rng) {
  const Section& sec = cfg.sec;
  const int stride = positive_key(sec, "stride", 1);
  const int size = positive_key(sec, "size", stride);  // darknet: a window as wide as the step
  // (size-1)/2 per side: ResNet's 3x3/2 stem pool pads 1, a 2x2/2 pool pads 0.
  const int padding = sec.get_int("padding", (size - 1) / 2);
  // A window must hold at least one real pixel, which padding < size guarantees.
  if (padding < 0 || padding >= size) sec.fail_key("padding", cat("must be in [0, size-1] = [0, ", size - 1, "]"));
  auto layer = std::make_unique<Maxpool>(ops::PoolGeom{size, stride, padding});
  return reshaped(sec, std::move(layer), in);
}

}  // namespace mabdet
