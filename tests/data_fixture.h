// Helpers for the data tests: a temporary folder removed at scope exit, and writing small files.
#pragma once
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "mabdet/data/image.h"
#include "test_util.h"

namespace mabdet::testing {

using mabdet::test::TempDir;

inline void write_file(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary);
  REQUIRE(f.good());
  f << text;
}

inline std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  REQUIRE(f.good());
  return std::string(std::istreambuf_iterator<char>(f), {});
}

// Solid-colour image.
inline Image solid(int w, int h, uint8_t r, uint8_t g, uint8_t b) {
  Image im;
  im.w = w;
  im.h = h;
  im.pix.resize(size_t(w) * h * 3);
  for (size_t i = 0; i < im.pix.size(); i += 3) {
    im.pix[i] = r;
    im.pix[i + 1] = g;
    im.pix[i + 2] = b;
  }
  return im;
}

}  // namespace mabdet::testing
