// [softmax]: the classification cost. out = softmax over the C*H*W values of each image (the
// probabilities); with ctx.labels (one class per image) loss = sum over images of
// -log p[label] * ctx.loss_scale, so the sub-batches of one step add up to the step's mean. As the
// terminal layer its backward ignores dout and adds dL/dx = (p - onehot(label)) * loss_scale.
#include "layers/factories.h"
#include "mabdet/classify.h"
#include "mabdet/ops.h"

namespace mabdet {
namespace {

class Softmax : public Layer {
 public:
  std::string type() const override { return "softmax"; }
  // The host copies stay on the host.
  void to(Device d) override { to_device(d, row_loss_, labels_); }
  bool is_loss() const override { return true; }
  double loss() const override { return loss_; }

  Shape reshape(const std::vector<Shape>& in) override {
    const Shape& s = in.at(0);
    row_loss_.reshape(s.n, 1);
    host_loss_.reshape(s.n, 1);
    host_labels_.reshape(s.n, 1);
    return Shape{s.n, int(s.chw()), 1, 1};
  }

  void forward(Context& ctx, const Inputs& in, Tensor& out) override {
    const Tensor& x = *in[0];  // (N, C, H, W) read as (N, classes)
    const int rows = x.n(), cols = int(x.shape().chw());
    has_labels_ = ctx.labels != nullptr;
    if (!has_labels_ && ctx.train) fail("softmax: training needs labels (one class index per image), none given");
    if (has_labels_) take_labels(*ctx.labels, rows, cols, x.device());
    // out: (N, classes, 1, 1) probabilities; row_loss_: (N) cross-entropy per image
    ops::softmax_cross_entropy(x.device(), rows, cols, x.data(), has_labels_ ? labels_.data() : nullptr, out.data(),
                               row_loss_.data());
    loss_ = 0;
    if (!has_labels_) return;
    host_loss_.copy_from(row_loss_);
    for (size_t i = 0; i < host_loss_.size(); ++i) loss_ += host_loss_[i];
    loss_ *= ctx.loss_scale;
  }

  bool backward_reads_inputs() const override { return false; }  // the probabilities (out) suffice

  void backward(Context& ctx, const Inputs& in, const Tensor& out, const Tensor& dout,
                const InputGrads& din) override {
    if (!has_labels_) fail("softmax: backward needs the labels of the last forward, which had none");
    if (din.empty() || !din[0]) return;
    ops::softmax_cross_entropy_backward(out.device(), out.n(), out.c(), out.data(), labels_.data(), ctx.loss_scale,
                                        din[0]->data());
  }

 private:
  // Checks the labels on the host (user data: report, don't trust) and keeps a copy on `d`
  // for backward, which must use the labels of its own forward.
  void take_labels(const IndexTensor& labels, int rows, int cols, Device d) {
    host_labels_.copy_from(labels);
    if (int(host_labels_.size()) != rows)
      fail("softmax: ", host_labels_.size(), " labels for a batch of ", rows, " images");
    for (int i = 0; i < rows; ++i)
      if (host_labels_[i] < 0 || host_labels_[i] >= cols)
        fail("softmax: label ", host_labels_[i], " of image ", i, " is outside [0, ", cols, ")");
    if (labels_.device() != d) labels_ = IndexTensor(Shape{}, d);
    labels_.copy_from(labels);
  }

  Tensor row_loss_;                 // (N) -log p[label] per image, on the input's device
  Tensor host_loss_;                // (N) host copy, summed into loss_
  IndexTensor host_labels_;         // (N) host copy for validation
  IndexTensor labels_;              // (N) the last forward's labels, on the input's device
  bool has_labels_ = false;
  double loss_ = 0;
};

}  // namespace

std::unique_ptr<Layer> make_softmax(const Scope& cfg, const std::vector<Shape>& in, Rng& rng) {
  return std::make_unique<Softmax>();
}

std::vector<int> top1(const Tensor& probs) {
  Tensor host = probs.clone(Device::CPU);
  const int rows = host.n(), cols = int(host.shape().chw());
  std::vector<int> best(rows, 0);
  for (int r = 0; r < rows; ++r)
    for (int c = 1; c < cols; ++c)
      if (host[size_t(r) * cols + c] > host[size_t(r) * cols + best[r]]) best[r] = c;
  return best;
}

}  // namespace mabdet
