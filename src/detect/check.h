// Argument checks shared by the detection ops: they run on the host, and a wrong shape is a bug in
// the caller (a layer), so it fails loudly with the op's name.
#pragma once
#include "mabdet/tensor.h"

namespace mabdet::detect {

template <class T>
void require_host(const char* op, const TensorT<T>& t) {
  MABDET_ASSERT(t.device() == Device::CPU, op, ": runs on the host, got a CUDA tensor");
}

// (N, cols) with h = w = 1.
template <class T>
void require_rows(const char* op, const char* what, const TensorT<T>& t, int cols) {
  require_host(op, t);
  MABDET_ASSERT(t.c() == cols && t.h() == 1 && t.w() == 1, op, ": ", what, " must be (N, ", cols, "), got ",
                t.shape().str());
}

}  // namespace mabdet::detect
