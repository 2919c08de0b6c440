// The finite-difference check of a whole classifier network: the loss of its last forward on x
// against the gradients of every parameter from its backward (in training mode, states such as
// running statistics restored around every probe).
#pragma once
#include "gradcheck.h"
#include "mabdet/network.h"

namespace mabdet::test {
inline double network_gradcheck(Network& net, const Tensor& x, const IndexTensor& labels, uint64_t seed,
                                int samples) {
  Context ctx;
  ctx.train = true;
  ctx.labels = &labels;
  Tensor loss(1, 1), dloss(1, 1);
  GradCheck g;
  g.out = &loss;
  g.dout = &dloss;
  g.forward = [&] {
    net.forward(ctx, x);
    loss[0] = float(net.loss());
  };
  g.backward = [&] {
    // The loss layer is terminal: scale its gradient by dL/dloss through loss_scale.
    ctx.loss_scale = dloss[0];
    net.backward(ctx);
    ctx.loss_scale = 1.f;
  };
  for (Param& p : net.params()) g.probes.push_back({p.name, p.value, p.grad});
  g.state = net.state();
  return gradcheck(g, seed, samples);
}
}  // namespace mabdet::test
