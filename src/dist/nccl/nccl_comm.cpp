// The NCCL communicator (GPU=1 MPI=1 builds, MABDET_COMM=nccl under mpirun): one GPU per rank,
// the rank's place on its node picking the device; rank 0's ncclUniqueId reaches the others by
// MPI_Bcast, and the MPI world stays open beside NCCL for abort. Device buffers are summed by
// ncclAllReduce in place; host buffers (networks still train on the CPU) go through a device
// staging buffer, so that choosing NCCL really moves every sum through NCCL.
#include <cuda_runtime.h>
#include <nccl.h>

#include <cstdio>

#include "dist/mpi/mpi_comm.h"
#include "mabdet/error.h"

namespace mabdet {
namespace {
void cuda_ok(cudaError_t e, const char* what) {
  if (e != cudaSuccess) fail("NCCL communicator: ", what, ": ", cudaGetErrorString(e));
}
void nccl_ok(ncclResult_t r, const char* what) {
  if (r != ncclSuccess) fail("NCCL communicator: ", what, ": ", ncclGetErrorString(r));
}

class NcclComm : public Comm {
 public:
  explicit NcclComm(std::unique_ptr<MpiComm> mpi) : mpi_(std::move(mpi)) {
    int devices = 0;
    cuda_ok(cudaGetDeviceCount(&devices), "cudaGetDeviceCount");
    if (devices < 1) fail("MABDET_COMM=nccl: rank ", mpi_->rank(), " sees no CUDA device");
    cuda_ok(cudaSetDevice(mpi_->local_rank() % devices), "cudaSetDevice");
    ncclUniqueId id;
    if (mpi_->rank() == 0) nccl_ok(ncclGetUniqueId(&id), "ncclGetUniqueId");
    mpi_->broadcast_bytes(&id, sizeof id, 0);
    nccl_ok(ncclCommInitRank(&comm_, mpi_->size(), id, mpi_->rank()), "ncclCommInitRank");
    cuda_ok(cudaStreamCreate(&stream_), "cudaStreamCreate");
  }
  ~NcclComm() override {
    if (staging_) cudaFree(staging_);
    cudaStreamDestroy(stream_);
    ncclCommDestroy(comm_);
  }
  std::string backend() const override { return "nccl"; }
  int rank() const override { return mpi_->rank(); }
  int size() const override { return mpi_->size(); }
  void allreduce_sum(float* p, size_t n, Device d) override { sum(p, n, d, ncclFloat); }
  void allreduce_sum(double* p, size_t n, Device d) override { sum(p, n, d, ncclDouble); }
  [[noreturn]] void abort(int code) override {
    ncclCommAbort(comm_);  // NCCL kernels waiting on the dead rank would never end otherwise
    mpi_->abort(code);
  }

 private:
  template <class T>
  void sum(T* p, size_t n, Device d, ncclDataType_t type) {
    if (n == 0) return;
    const size_t bytes = n * sizeof(T);
    void* dev = p;
    if (d == Device::CPU) {
      if (staging_bytes_ < bytes) {
        if (staging_) cudaFree(staging_);
        staging_ = nullptr;
        cuda_ok(cudaMalloc(&staging_, bytes), "cudaMalloc (staging)");
        staging_bytes_ = bytes;
      }
      dev = staging_;
      cuda_ok(cudaMemcpyAsync(dev, p, bytes, cudaMemcpyHostToDevice, stream_), "copy to the device");
    }
    nccl_ok(ncclAllReduce(dev, dev, n, type, ncclSum, comm_, stream_), "ncclAllReduce");
    if (d == Device::CPU) cuda_ok(cudaMemcpyAsync(p, dev, bytes, cudaMemcpyDeviceToHost, stream_), "copy to the host");
    cuda_ok(cudaStreamSynchronize(stream_), "cudaStreamSynchronize");
  }

  std::unique_ptr<MpiComm> mpi_;
  ncclComm_t comm_ = nullptr;
  cudaStream_t stream_ = nullptr;
  void* staging_ = nullptr;
  size_t staging_bytes_ = 0;
};
}  // namespace

std::unique_ptr<Comm> make_nccl_comm(std::unique_ptr<MpiComm> bootstrap) {
  return std::make_unique<NcclComm>(std::move(bootstrap));
}

}  // namespace mabdet
