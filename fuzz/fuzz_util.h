// Shared by the libFuzzer targets (one per fuzz_*.cpp; `make fuzz`, docs/fuzzing.md).
//
// What counts as a finding: a sanitizer report, a crash, a hang (libFuzzer's -timeout), and any
// exception other than a user-facing mabdet::Error: an "internal error" (MABDET_ASSERT), a
// std::out_of_range from a bare stoi, a std::length_error from a vector sized by the input, ...
// -- mabdet promises a message naming the file and field for every bad input, so those are bugs.
#pragma once
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <new>
#include <string>

#include "mabdet/error.h"

// Built into every target so that a plain `./build-fuzz/fuzz_x corpus/` behaves as in CI: an
// allocation over 64 MiB returns null instead of aborting, and the library's aligned_alloc check
// turns that into its "out of memory" Error. Inputs may legally ask for huge tensors (a cfg with
// width=100000 is valid, only large); that must end in a clean message, never in a crash, but it
// must not make the fuzzer allocate gigabytes either. operator new is not covered (ASan aborts
// there whatever the flag), so a std::vector sized straight from the input is still found.
extern "C" const char* __asan_default_options() {
  return "allocator_may_return_null=1:max_allocation_size_mb=64:detect_leaks=1";
}
extern "C" const char* __ubsan_default_options() { return "print_stacktrace=1:halt_on_error=1"; }

namespace mabdet_fuzz {

// Whether msg holds MABDET_ASSERT's marker. Plain loops without coverage instrumentation: through
// strstr or memcmp libFuzzer would learn the marker and write it into inputs that are echoed back.
__attribute__((no_sanitize("coverage"))) inline bool is_internal_error(const char* msg) {
  static const char kMarker[] = "internal error (a bug in mabdet)";
  for (const char* p = msg; *p; ++p) {
    size_t k = 0;
    while (kMarker[k] && p[k] == kMarker[k]) ++k;
    if (!kMarker[k]) return true;
  }
  return false;
}

inline bool verbose() {
  static const bool v = std::getenv("MABDET_FUZZ_VERBOSE") != nullptr;
  return v;
}

// Runs f(); a mabdet::Error is the expected answer to bad input, anything else aborts so that
// libFuzzer saves the input.
template <class F>
void expect_clean(F&& f) {
  try {
    f();
  } catch (const mabdet::Error& e) {
    if (is_internal_error(e.what())) {
      std::fprintf(stderr, "fuzz: internal error: %s\n", e.what());
      std::abort();
    }
    // To see why a seed is rejected: MABDET_FUZZ_VERBOSE=1 ./build-fuzz/fuzz_x file
    if (verbose()) std::fprintf(stderr, "fuzz: mabdet::Error: %s\n", e.what());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fuzz: exception that is not a mabdet::Error: %s\n", e.what());
    std::abort();
  }
}

// The loaders that only take a path read the input from this per-process file.
inline std::string scratch_path(const char* ext) {
  const char* dir = std::getenv("TMPDIR");
  return std::string(dir && *dir ? dir : "/tmp") + "/mabdet_fuzz_" + std::to_string(getpid()) + ext;
}

inline std::string write_scratch(const uint8_t* data, size_t size, const char* ext) {
  std::string p = scratch_path(ext);
  std::FILE* f = std::fopen(p.c_str(), "wb");
  if (!f || (size && std::fwrite(data, 1, size, f) != size) || std::fclose(f) != 0) {
    std::perror(p.c_str());
    std::abort();
  }
  return p;
}

// Removes the scratch file when the fuzzer exits normally.
struct ScratchCleanup {
  const char* ext;
  ~ScratchCleanup() { std::remove(scratch_path(ext).c_str()); }
};

}  // namespace mabdet_fuzz
