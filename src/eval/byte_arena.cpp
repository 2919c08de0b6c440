#include "mabdet/byte_arena.h"

#include <sys/mman.h>

#include <cstring>
#include <new>
#include <utility>

namespace mabdet {

static constexpr size_t kHuge = size_t(2) << 20;

ByteArena::~ByteArena() {
  if (data_) munmap(data_, cap_);
}

void ByteArena::swap(ByteArena& o) noexcept {
  std::swap(data_, o.data_);
  std::swap(size_, o.size_);
  std::swap(cap_, o.cap_);
}

void ByteArena::grow(size_t need) {
  size_t cap = cap_ ? cap_ : kHuge;
  while (cap < need) cap *= 2;
  void* p = data_ ? mremap(data_, cap_, cap, MREMAP_MAYMOVE)
                  : mmap(nullptr, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) throw std::bad_alloc();
  madvise(p, cap, MADV_HUGEPAGE);  // a hint: without THP this is simply 4 KiB pages
  data_ = static_cast<char*>(p);
  cap_ = cap;
}

uint64_t ByteArena::append(std::string_view s) {
  if (s.empty()) return size_;  // nothing to copy (and data_ may still be null)
  if (size_ + s.size() > cap_) grow(size_ + s.size());
  std::memcpy(data_ + size_, s.data(), s.size());
  const uint64_t off = size_;
  size_ += s.size();
  return off;
}

}  // namespace mabdet
