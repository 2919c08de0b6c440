// The CUDA side of for_each_index (nvcc only): one thread per index. A .cu file that includes
// this instantiates it for its functors (`template void for_each_index_cuda<F>(int, const F&);`).
#pragma once
#include "ops/cuda_common.h"
#include "ops/for_each_index.h"

namespace mabdet::ops {
namespace detail {
template <class F>
__global__ void for_each_index_kernel(int n, F f) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) f(i);
}
}  // namespace detail

template <class F>
void for_each_index_cuda(int n, const F& f) {
  detail::for_each_index_kernel<<<blocks_for(size_t(n), 128), 128>>>(n, f);
  MABDET_CUDA_LAUNCH("for_each_index");
}
}  // namespace mabdet::ops
