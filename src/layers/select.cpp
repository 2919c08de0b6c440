// [select] from=X,NAME:index: one channel of X per position, chosen by an Index input:
// out[n, 0, h, w] = x[n, index, h, w], with index either one per position ((N, 1, H, W), as
// [argmax] gives) or one per row ((N) entries: the class of each RoI, as a mask head picks its
// class's mask). The gradient goes to the chosen channel only; the index gets none.
#include "layers/factories.h"

namespace mabdet {
namespace {

class Select : public Layer {
 public:
  std::string type() const override { return "select"; }
  void to(Device d) override { host_only(d); }

  Shape reshape(const std::vector<Shape>& in) override {
    const Shape& s = in.at(0);
    return Shape{s.n, 1, s.h, s.w};
  }

  void forward(Context& ctx, const Inputs& in, Tensor& out) override {
    const Tensor& x = *in[0];  // (N, C, H, W)
    MABDET_ASSERT(x.device() == Device::CPU, "select runs on the host");
    const Shape& s = x.shape();
    const IndexTensor& idx = index_of(in, s);
    const size_t hw = s.plane();
    per_row_ = idx.size() == size_t(s.n) && hw != 1;
    for (int n = 0; n < s.n; ++n)
      for (size_t p = 0; p < hw; ++p) {
        const int c = idx[per_row_ ? size_t(n) : n * hw + p];
        if (c < 0 || c >= s.c) fail("select: index ", c, " of row ", n, " is outside [0, ", s.c, ")");
        out[n * hw + p] = x[size_t(n) * s.chw() + c * hw + p];
      }
  }

  void backward(Context& ctx, const Inputs& in, const Tensor& out, const Tensor& dout, const InputGrads& din) override {
    if (din.empty() || !din[0]) return;
    const Shape& s = in[0]->shape();
    const IndexTensor& idx = *in.index[0];
    const size_t hw = s.plane();
    for (int n = 0; n < s.n; ++n)
      for (size_t p = 0; p < hw; ++p) {
        const int c = idx[per_row_ ? size_t(n) : n * hw + p];
        (*din[0])[size_t(n) * s.chw() + c * hw + p] += dout[n * hw + p];
      }
  }

 private:
  static const IndexTensor& index_of(const Inputs& in, const Shape& s) {
    if (in.index.size() != 1) fail("select: needs exactly one Index input (from=X,NAME:index), got ", in.index.size());
    const IndexTensor& idx = *in.index[0];
    if (idx.size() != size_t(s.n) * s.plane() && idx.size() != size_t(s.n))
      fail("select: ", idx.size(), " indices for an input ", s.str(), "; give one per position or one per row");
    return idx;
  }
  bool per_row_ = false;
};

}  // namespace

std::unique_ptr<Layer> make_select(const Scope& cfg, const std::vector<Shape>& in, Rng& rng) {
  return std::make_unique<Select>();
}

}  // namespace mabdet
