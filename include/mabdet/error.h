// Errors: user-facing failures (bad cfg, weights, json, images) throw mabdet::Error with a message
// that names the file/line/field; main() prints it and exits 1. Internal invariants use MABDET_ASSERT,
// which also throws (so tests can see it) but marks the message as a bug.
#pragma once
#include <sstream>
#include <stdexcept>
#include <string>

namespace mabdet {

struct Error : std::runtime_error {
  explicit Error(const std::string& msg) : std::runtime_error(msg) {}
};

// Training stopped by SIGINT or SIGTERM after saving its checkpoint: main() prints the message and
// exits with 128 + the signal (130, 143), the code a shell gives a process that signal ended.
struct Interrupted : Error {
  int signal;
  Interrupted(const std::string& msg, int sig) : Error(msg), signal(sig) {}
};

// cat("a", 1, 'b') -> "a1b": builds error messages without printf formats.
template <class... Args>
std::string cat(const Args&... args) {
  std::ostringstream os;
  (os << ... << args);
  return os.str();
}

template <class... Args>
[[noreturn]] void fail(const Args&... args) {
  throw Error(cat(args...));
}

}  // namespace mabdet

#define MABDET_ASSERT(cond, ...)                                                              \
  do {                                                                                        \
    if (!(cond))                                                                              \
      ::mabdet::fail("internal error (a bug in mabdet) at ", __FILE__, ":", __LINE__, ": ",    \
                     #cond, " ", ##__VA_ARGS__);                                              \
  } while (0)
