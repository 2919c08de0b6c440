#include "mabdet/layer.h"

namespace mabdet {

std::vector<Shape> Inputs::shapes() const {
  std::vector<Shape> s;
  s.reserve(f_.size());
  for (const Tensor* t : f_) s.push_back(t->shape());
  return s;
}

Shape Layer::shape_for(const std::vector<Shape>& shapes) {
  if (!shaped_ || shapes != in_shapes_) {
    out_shape_ = reshape(shapes);
    in_shapes_ = shapes;
    shaped_ = true;
  }
  return out_shape_;
}

void Layer::run_forward(Context& ctx, const Inputs& in, const Outputs& out) {
  std::vector<Shape> shapes = in.shapes();
  out.f.at(0)->reshape(shape_for(shapes));
  fwd_shapes_ = std::move(shapes);
  forward_ports(ctx, in, out);
}

void Layer::run_backward(Context& ctx, const Inputs& in, const Outputs& out, const std::vector<const Tensor*>& dout,
                         const InputGrads& din) {
  // A mismatch here is a caller's bug that would otherwise read or write past a buffer.
  MABDET_ASSERT(in.size() == fwd_shapes_.size() && din.size() <= in.size() && dout.size() == out.f.size(), type(),
                ": backward given ", in.size(), " inputs, ", din.size(), " input grads and ", dout.size(),
                " output grads for a forward of ", fwd_shapes_.size(), " inputs and ", out.f.size(), " outputs");
  for (size_t k = 0; k < in.size(); ++k) {
    MABDET_ASSERT(in[k]->shape() == fwd_shapes_[k], type(), ": backward input ", k, " is ", in[k]->shape().str(),
                  ", the forward had ", fwd_shapes_[k].str());
    if (k < din.size() && din[k])
      MABDET_ASSERT(din[k]->shape() == in[k]->shape(), type(), ": gradient of input ", k, " is ",
                    din[k]->shape().str(), ", the input is ", in[k]->shape().str());
  }
  for (size_t k = 0; k < dout.size(); ++k)
    if (dout[k])
      MABDET_ASSERT(dout[k]->shape() == out.f[k]->shape(), type(), ": gradient of output ", k, " is ",
                    dout[k]->shape().str(), ", the output is ", out.f[k]->shape().str());
  backward_ports(ctx, in, out, dout, din);
}

void Layer::run_forward(Context& ctx, const Inputs& in, Tensor& out) {
  Outputs o;
  o.f.push_back(&out);
  run_forward(ctx, in, o);
}

void Layer::run_backward(Context& ctx, const Inputs& in, const Tensor& out, const Tensor& dout,
                         const InputGrads& din) {
  Outputs o;
  o.f.push_back(const_cast<Tensor*>(&out));
  run_backward(ctx, in, o, {&dout}, din);
}

}  // namespace mabdet

namespace mabdet {
void Layer::host_only(Device d) const {
  if (d != Device::CPU)
    fail("[", type(), "] runs on the host only so far (the detector's layers are not built for the GPU yet): use -cpu");
}

void Layer::to(Device d) {
  for (Param& p : params()) to_device(d, *p.value, *p.grad);
  for (State& s : state())
    if (s.tensor) s.tensor->to(d);
}
}  // namespace mabdet
