// Host side of tensor memory. CPU buffers are 64-byte aligned for vector loads; CUDA calls live in
// device.cu (GPU=1 builds) and are reached only through the detail:: functions.
#include <atomic>
#include <cstdlib>
#include <cstring>

#include "mabdet/tensor.h"

namespace mabdet {

std::string Shape::str() const { return cat(n, "x", c, "x", h, "x", w); }

namespace {
struct Counter {
  std::atomic<size_t> live{0}, peak{0};
  void add(size_t bytes) {
    const size_t now = live.fetch_add(bytes, std::memory_order_relaxed) + bytes;
    size_t p = peak.load(std::memory_order_relaxed);
    while (now > p && !peak.compare_exchange_weak(p, now, std::memory_order_relaxed)) {}
  }
  void sub(size_t bytes) { live.fetch_sub(bytes, std::memory_order_relaxed); }
  TensorBytes get() const { return {live.load(std::memory_order_relaxed), peak.load(std::memory_order_relaxed)}; }
  void reset_peak() { peak.store(live.load(std::memory_order_relaxed), std::memory_order_relaxed); }
};
Counter g_host, g_cuda;
Counter& counter(Device d) { return d == Device::CPU ? g_host : g_cuda; }
}  // namespace

TensorBytes host_tensor_bytes() { return g_host.get(); }
void reset_host_tensor_peak() { g_host.reset_peak(); }
TensorBytes cuda_tensor_bytes() { return g_cuda.get(); }
void reset_cuda_tensor_peak() { g_cuda.reset_peak(); }

namespace detail {
size_t checked_size(const Shape& s) {
  size_t n = size_t(s.n), hw = 0, chw = 0;
  const bool over = __builtin_mul_overflow(size_t(s.h), size_t(s.w), &hw) ||
                    __builtin_mul_overflow(size_t(s.c), hw, &chw) || __builtin_mul_overflow(n, chw, &n);
  if (over || n > kMaxTensorValues)
    throw AllocError(cat("a ", s.str(), " tensor would hold more than ", kMaxTensorValues, " values"));
  return n;
}

void* tensor_alloc(Device d, const Shape& s, size_t elem) {
  try {
    void* p = device_alloc(d, s.size() * elem);
    counter(d).add(s.size() * elem);
    return p;
  } catch (const AllocError& e) {
    throw AllocError(cat(e.what(), " for a ", s.str(), " tensor"));
  }
}

void tensor_free(Device d, void* p, size_t bytes) {
  counter(d).sub(bytes);
  device_free(d, p);
}

#ifdef MABDET_GPU
void* cuda_alloc(size_t bytes);
void cuda_free(void* p);
void cuda_copy(void* dst, bool dst_dev, const void* src, bool src_dev, size_t bytes);
void cuda_zero(void* p, size_t bytes);
#endif

#ifndef MABDET_GPU
[[noreturn]] static void no_cuda() { fail("this mabdet was built without GPU=1; CUDA tensors are unavailable"); }
#endif

void* device_alloc(Device d, size_t bytes) {
  if (d == Device::CUDA) {
#ifdef MABDET_GPU
    return cuda_alloc(bytes);
#else
    no_cuda();
#endif
  }
  size_t rounded = (bytes + 63) / 64 * 64;
  void* p = std::aligned_alloc(64, rounded ? rounded : 64);
  if (!p) throw AllocError(cat("out of memory allocating ", bytes, " bytes"));
  return p;
}

void device_free(Device d, void* p) {
#ifdef MABDET_GPU
  if (d == Device::CUDA) return cuda_free(p);
#endif
  std::free(p);
}

void device_copy(void* dst, Device dd, const void* src, Device sd, size_t bytes) {
  if (dd == Device::CPU && sd == Device::CPU) {
    std::memcpy(dst, src, bytes);
    return;
  }
#ifdef MABDET_GPU
  cuda_copy(dst, dd == Device::CUDA, src, sd == Device::CUDA, bytes);
#else
  no_cuda();
#endif
}

void device_zero(Device d, void* p, size_t bytes) {
  if (d == Device::CPU) {
    std::memset(p, 0, bytes);
    return;
  }
#ifdef MABDET_GPU
  cuda_zero(p, bytes);
#else
  no_cuda();
#endif
}
}  // namespace detail

#ifndef MABDET_GPU
bool cuda_available() { return false; }
#endif

}  // namespace mabdet
