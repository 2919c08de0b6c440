#include <cmath>
#include <cstring>

#include "mabdet/ops.h"
#include "ops/dispatch.h"
#include "ops/activation_kern.h"

namespace mabdet::ops {
void activate_cuda(Act a, float* x, size_t n);
void activate_backward_cuda(Act a, const float* y, float* dy, size_t n);

Act parse_act(const std::string& s) {
  if (s == "linear") return Act::Linear;
  if (s == "relu") return Act::Relu;
  if (s == "leaky") return Act::Leaky;
  if (s == "logistic") return Act::Logistic;
  fail("unknown activation '", s, "' (allowed: linear | relu | leaky | logistic)");
}

const char* act_name(Act a) {
  switch (a) {
    case Act::Linear: return "linear";
    case Act::Relu: return "relu";
    case Act::Leaky: return "leaky";
    case Act::Logistic: return "logistic";
  }
  return "?";
}

void activate(Device d, Act a, float* x, size_t n) {
  if (a == Act::Linear) return;
  if (d == Device::CUDA) MABDET_CUDA_OR_FAIL("activate", activate_cuda(a, x, n));
  for (size_t i = 0; i < n; ++i) x[i] = act_forward(a, x[i]);
}

void activate_backward(Device d, Act a, const float* y, float* dy, size_t n) {
  if (a == Act::Linear) return;
  if (d == Device::CUDA) MABDET_CUDA_OR_FAIL("activate_backward", activate_backward_cuda(a, y, dy, n));
  for (size_t i = 0; i < n; ++i) dy[i] *= act_grad(a, y[i]);
}

}  // namespace mabdet::ops
