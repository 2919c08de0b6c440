// An append-only byte store for hundreds of megabytes of small strings (RLE counts): one mapping
// that grows in place (mremap) instead of copying, backed by transparent huge pages so that
// filling it costs a few hundred page faults rather than tens of thousands (page faults are
// expensive on virtual machines).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace mabdet {

class ByteArena {
 public:
  ByteArena() = default;
  ByteArena(const ByteArena&) = delete;
  ByteArena& operator=(const ByteArena&) = delete;
  ByteArena(ByteArena&& o) noexcept { swap(o); }
  ByteArena& operator=(ByteArena&& o) noexcept { swap(o); return *this; }
  ~ByteArena();

  // Returns the offset of the appended bytes.
  uint64_t append(std::string_view s);
  std::string_view view(uint64_t off, size_t n) const { return std::string_view(data_ + off, n); }
  size_t size() const { return size_; }

 private:
  void grow(size_t need);
  void swap(ByteArena& o) noexcept;
  char* data_ = nullptr;
  size_t size_ = 0, cap_ = 0;
};

}  // namespace mabdet
