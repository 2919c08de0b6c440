// [normalization]: a standalone norm (any norm= of make_norm) followed by an activation, for
// places where no conv owns the norm (e.g. after a pooling or a shortcut): out = act(norm(x)).
#include "layers/factories.h"
#include "mabdet/norm.h"
#include "mabdet/ops.h"

namespace mabdet {
namespace {
class NormalizationLayer : public Layer {
 public:
  NormalizationLayer(std::unique_ptr<Norm> norm, ops::Act act, int channels)
      : norm_(std::move(norm)), act_(act), channels_(channels) {}
  std::string type() const override { return "normalization"; }
  std::string filters_str() const override { return std::to_string(channels_); }
  std::string size_str() const override { return cat(norm_->name(), " ", ops::act_name(act_)); }

  Shape reshape(const std::vector<Shape>& in) override {
    MABDET_ASSERT(in.size() == 1 && in[0].c == channels_, "normalization: channels fixed at construction");
    norm_->reshape(in[0]);
    return in[0];
  }

  // No norm reads its own output in backward, so the activation runs on `out` in place.
  void forward(Context& ctx, const Inputs& in, Tensor& out) override {
    norm_->forward(ctx, *in[0], out);
    ops::activate(out.device(), act_, out.data(), out.size());
  }

  bool backward_reads_output() const override { return act_ != ops::Act::Linear; }

  // dL/dnorm-output lives in the context's transient scratch; where the input needs no gradient
  // (the norm's params still do) the norm overwrites that scratch with a dL/dx nobody reads.
  void backward(Context& ctx, const Inputs& in, const Tensor& out, const Tensor& dout, const InputGrads& din) override {
    const Tensor* dy = &dout;
    Tensor* g = nullptr;
    if (act_ != ops::Act::Linear) {
      g = &ctx.grad_scratch(out.shape());
      ops::activate_backward(out.device(), act_, out.data(), dout.data(), g->data(), g->size());
      dy = g;
    }
    if (din[0]) return norm_->backward(ctx, *in[0], *dy, *din[0], true);
    if (!g) g = &ctx.grad_scratch(out.shape());
    norm_->backward(ctx, *in[0], *dy, *g, false);
  }

  std::vector<Param> params() override { return norm_->params(); }
  void to(Device d) override { norm_->to(d); }
  std::vector<State> state() override { return norm_->state(); }

 private:
  std::unique_ptr<Norm> norm_;
  ops::Act act_;
  int channels_;
};
}  // namespace

std::unique_ptr<Layer> make_normalization(const Scope& cfg, const std::vector<Shape>& in, Rng& rng) {
  const int channels = in.at(0).c;
  const std::string act_str = cfg.sec.get_str("activation", "linear");
  ops::Act act;
  try {
    act = ops::parse_act(act_str);
  } catch (const Error& e) {
    cfg.sec.fail_key("activation", e.what());
  }
  return std::make_unique<NormalizationLayer>(make_norm(cfg, channels), act, channels);
}

}  // namespace mabdet
