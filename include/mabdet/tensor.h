// Tensor: an owning, NCHW, 4-d array of T on one device. Shapes change often in detection, so
// reshape() keeps the allocation when the new size fits (capacity only grows) and never copies.
// Move-only: copies are explicit (clone/copy_from), host<->device transfers too. A tensor may also
// be a view of another (share_storage_of): weight sharing makes two layers' params one storage.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>

#include "mabdet/error.h"

namespace mabdet {

enum class Device : uint8_t { CPU, CUDA };
inline const char* device_name(Device d) { return d == Device::CPU ? "the CPU" : "the GPU"; }

struct Shape {
  int n = 0, c = 0, h = 1, w = 1;
  size_t size() const { return size_t(n) * c * h * w; }
  size_t plane() const { return size_t(h) * w; }  // h * w
  size_t chw() const { return size_t(c) * h * w; }
  bool operator==(const Shape& o) const { return n == o.n && c == o.c && h == o.h && w == o.w; }
  bool operator!=(const Shape& o) const { return !(*this == o); }
  std::string str() const;  // "2x16x32x32"
};

// A tensor that cannot exist: more values than kMaxTensorValues, or no memory for it. Network
// building and forward catch it to name the layer's cfg line and the shape.
struct AllocError : Error {
  using Error::Error;
};
// Kernels index with int (BLAS, im2col, CUDA grids), so a tensor holds at most 2^31 - 1 values.
constexpr size_t kMaxTensorValues = 2147483647;

namespace detail {
// s.size(), or AllocError when the product of the dims overflows or exceeds kMaxTensorValues.
size_t checked_size(const Shape& s);
// Allocates s.size() values of elem bytes; AllocError naming the shape when out of memory.
// tensor_free gives back what tensor_alloc returned, with the same byte count (for the counter).
void* tensor_alloc(Device d, const Shape& s, size_t elem);
void tensor_free(Device d, void* p, size_t bytes);
void* device_alloc(Device d, size_t bytes);
void device_free(Device d, void* p);
void device_copy(void* dst, Device dd, const void* src, Device sd, size_t bytes);
void device_zero(Device d, void* p, size_t bytes);
}  // namespace detail

template <class T>
class TensorT {
 public:
  TensorT() = default;
  explicit TensorT(Shape s, Device d = Device::CPU) : dev_(d) { reshape(s); }
  TensorT(int n, int c, int h = 1, int w = 1, Device d = Device::CPU) : TensorT(Shape{n, c, h, w}, d) {}
  ~TensorT() { release(); }
  TensorT(const TensorT&) = delete;
  TensorT& operator=(const TensorT&) = delete;
  TensorT(TensorT&& o) noexcept { swap(o); }
  TensorT& operator=(TensorT&& o) noexcept {
    if (this != &o) { release(); swap(o); }
    return *this;
  }

  // New shape; reallocates (contents undefined) only when it outgrows the capacity.
  void reshape(Shape s) {
    MABDET_ASSERT(s.n >= 0 && s.c >= 0 && s.h >= 0 && s.w >= 0, s.str());
    const size_t n = detail::checked_size(s);
    if (n > cap_) {
      MABDET_ASSERT(!view_, "a view cannot grow: ", shape_.str(), " -> ", s.str());
      release();
      data_ = static_cast<T*>(detail::tensor_alloc(dev_, s, sizeof(T)));
      cap_ = n;
    }
    shape_ = s;
  }
  void reshape(int n, int c, int h = 1, int w = 1) { reshape(Shape{n, c, h, w}); }
  void zero() { if (size()) detail::device_zero(dev_, data_, size() * sizeof(T)); }
  void fill(T v) {
    if (dev_ != Device::CPU) {  // rare (constants, loss seeds): filled on the host, then copied
      TensorT h(shape_);
      h.fill(v);
      return copy_from(h);
    }
    for (size_t i = 0; i < size(); ++i) data_[i] = v;
  }
  // Same shape and contents as src (any device to this tensor's device).
  void copy_from(const TensorT& src) {
    reshape(src.shape());
    if (size()) detail::device_copy(data_, dev_, src.data_, src.dev_, size() * sizeof(T));
  }
  TensorT clone(Device d) const {
    TensorT t(shape_, d);
    t.copy_from(*this);
    return t;
  }
  TensorT clone() const { return clone(dev_); }
  // From now on this tensor reads and writes `owner`'s storage (same shape and device); `owner`
  // must outlive it. Its own allocation, if any, is freed.
  void share_storage_of(TensorT& owner) {
    release();
    data_ = owner.data_;
    cap_ = owner.size();
    shape_ = owner.shape_;
    dev_ = owner.dev_;
    view_ = true;
  }
  bool is_view() const { return view_; }
  // This tensor on device d from now on: the contents (and shape) move there, and later growth
  // allocates there. A view lets go of its owner's storage (data() null, shape kept): whoever
  // made it a view shares again once the owner has moved (Network::to does).
  void to(Device d) {
    if (d == dev_) return;
    if (view_) {
      data_ = nullptr;
      cap_ = 0;
      view_ = false;
    } else if (data_) {
      TensorT t(shape_, d);
      detail::device_copy(t.data_, d, data_, dev_, size() * sizeof(T));
      *this = std::move(t);
    }
    dev_ = d;
  }
  // Moves the storage into the returned tensor (same shape) and keeps the shape alone: data() is
  // null until a reshape() needs room. How a network frees an output whose shape backward checks.
  TensorT take_storage() {
    MABDET_ASSERT(!view_, "a view has no storage of its own");
    TensorT t(std::move(*this));  // leaves this empty
    shape_ = t.shape_;
    dev_ = t.dev_;
    return t;
  }

  const Shape& shape() const { return shape_; }
  size_t capacity() const { return cap_; }  // values the allocation holds (>= size())
  int n() const { return shape_.n; }
  int c() const { return shape_.c; }
  int h() const { return shape_.h; }
  int w() const { return shape_.w; }
  size_t size() const { return shape_.size(); }
  bool empty() const { return size() == 0; }
  Device device() const { return dev_; }
  T* data() { return data_; }
  const T* data() const { return data_; }
  T& operator[](size_t i) { return data_[i]; }
  const T& operator[](size_t i) const { return data_[i]; }
  T& at(int n, int c, int h = 0, int w = 0) { return data_[((size_t(n) * shape_.c + c) * shape_.h + h) * shape_.w + w]; }
  const T& at(int n, int c, int h = 0, int w = 0) const {
    return data_[((size_t(n) * shape_.c + c) * shape_.h + h) * shape_.w + w];
  }

 private:
  void release() {
    if (data_ && !view_) detail::tensor_free(dev_, data_, cap_ * sizeof(T));
    data_ = nullptr;
    cap_ = 0;
    view_ = false;
  }
  void swap(TensorT& o) noexcept {
    std::swap(shape_, o.shape_);
    std::swap(data_, o.data_);
    std::swap(cap_, o.cap_);
    std::swap(dev_, o.dev_);
    std::swap(view_, o.view_);
  }
  Shape shape_{};
  T* data_ = nullptr;
  size_t cap_ = 0;
  Device dev_ = Device::CPU;
  bool view_ = false;  // storage belongs to another tensor
};

// t.to(d) for each of ts: how a layer or norm moves the buffers it holds.
template <class... Ts>
void to_device(Device d, Ts&... ts) {
  (ts.to(d), ...);
}

using Tensor = TensorT<float>;
using IndexTensor = TensorT<int32_t>;  // matches, labels, image index of each RoI

// Bytes held by host tensors (what tensor_alloc handed out and tensor_free did not take back yet),
// now and at most since the last reset_host_tensor_peak(): a process-wide, thread-safe count, so
// that tests and `bench` can say what a pass keeps without asking the allocator. Every layer
// buffer and the Context's scratch count; views add nothing (the owner counts). CUDA tensors
// count apart, in cuda_tensor_bytes (what `bench -gpu` reports beside PyTorch's allocated peak).
struct TensorBytes {
  size_t live = 0, peak = 0;
};
TensorBytes host_tensor_bytes();
void reset_host_tensor_peak();  // peak = live
TensorBytes cuda_tensor_bytes();
void reset_cuda_tensor_peak();

// True when this build has CUDA and a device is present (tests of CUDA ops check this).
bool cuda_available();

}  // namespace mabdet
