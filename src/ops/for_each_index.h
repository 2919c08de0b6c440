// for_each_index(d, n, f): f(i) for i in [0, n), on the host or as one CUDA thread per index. The
// small per-channel (or per-group) steps between reductions, where a norm turns sums into its
// coefficients, are such functors: plain structs of pointers and scalars with a MABDET_HD call
// operator, so the coefficients are computed where the tensors live and an iteration makes no
// host round trip. Each functor type is instantiated for CUDA in one .cu file (norm_coeff.cu).
#pragma once
#include "mabdet/tensor.h"
#include "ops/dispatch.h"
#include "ops/hd.h"

namespace mabdet::ops {
template <class F>
void for_each_index_cuda(int n, const F& f);  // defined in src/ops/for_each_index_cuda.h

template <class F>
void for_each_index(Device d, int n, const F& f) {
  if (n <= 0) return;
  if (d == Device::CUDA) MABDET_CUDA_OR_FAIL("for_each_index", for_each_index_cuda(n, f));
  for (int i = 0; i < n; ++i) f(i);
}
}  // namespace mabdet::ops
