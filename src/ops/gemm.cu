#include "mabdet/ops.h"
#include "ops/cuda_common.h"

namespace mabdet::ops {

cublasHandle_t cublas() {
  static cublasHandle_t h = [] {
    cublasHandle_t x;
    MABDET_CUBLAS(cublasCreate(&x));
    return x;
  }();
  return h;
}

// Row-major C = op(A) op(B) is column-major C^T = op(B)^T op(A)^T: swap the operands.
void gemm_cuda(bool transA, bool transB, int M, int N, int K, float alpha, const float* A, int lda, const float* B,
               int ldb, float beta, float* C, int ldc) {
  MABDET_CUBLAS(cublasSgemm(cublas(), transB ? CUBLAS_OP_T : CUBLAS_OP_N, transA ? CUBLAS_OP_T : CUBLAS_OP_N, N, M, K,
                            &alpha, B, ldb, A, lda, &beta, C, ldc));
}

}  // namespace mabdet::ops
