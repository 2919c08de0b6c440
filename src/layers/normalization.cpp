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

  void forward(Context& ctx, const Inputs& in, Tensor& out) override {
    if (act_ == ops::Act::Linear) {
      norm_->forward(ctx, *in[0], out);
      return;
    }
    // The norm's own output is kept: its backward is entitled to the y of its forward.
    pre_.reshape(in[0]->shape());
    norm_->forward(ctx, *in[0], pre_);
    out.copy_from(pre_);
    ops::activate(out.device(), act_, out.data(), out.size());
  }

  void backward(Context& ctx, const Inputs& in, const Tensor& out, const Tensor& dout, const InputGrads& din) override {
    const Tensor* dy = &dout;
    if (act_ != ops::Act::Linear) {
      dpre_.copy_from(dout);
      ops::activate_backward(dpre_.device(), act_, out.data(), dpre_.data(), dpre_.size());
      dy = &dpre_;
    }
    Tensor* dx = din[0];
    if (!dx) {  // the input needs no gradient, the norm's params still do
      dx_scratch_.reshape(in[0]->shape());
      dx_scratch_.zero();
      dx = &dx_scratch_;
    }
    norm_->backward(ctx, *in[0], act_ == ops::Act::Linear ? out : pre_, *dy, *dx);
  }

  std::vector<Param> params() override { return norm_->params(); }
  std::vector<State> state() override { return norm_->state(); }

 private:
  std::unique_ptr<Norm> norm_;
  ops::Act act_;
  int channels_;
  Tensor pre_, dpre_, dx_scratch_;  // norm output / its gradient (only with an activation); unused dx
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
