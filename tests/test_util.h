// Small helpers shared by tests.
#pragma once
#include <functional>
#include <string>

#include "mabdet/error.h"

namespace mabdet::test {
// The message of the mabdet::Error that f throws, or "" if it throws none.
inline std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}
}  // namespace mabdet::test
