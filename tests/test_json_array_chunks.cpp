// The piecewise reader of big results files: every split point (down to one element per piece)
// must hand out exactly the original elements, whatever the strings contain.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include "eval/json_array_chunks.h"
#include "mabdet/error.h"

using namespace mabdet;
using nlohmann::json;
namespace fs = std::filesystem;

static std::string write_tmp(const std::string& name, const std::string& text) {
  const fs::path p = fs::temp_directory_path() / ("mabdet_chunks_" + std::to_string(getpid()) + "_" + name);
  std::ofstream(p) << text;
  return p.string();
}

// All elements of all pieces, each piece parsed on its own.
static json read_pieces(const std::string& path, size_t target, size_t* n_pieces = nullptr) {
  JsonArrayChunks chunks(path, target);
  json all = json::array();
  const char* d;
  size_t len, cap, n = 0;
  while (chunks.next(d, len, cap)) {
    REQUIRE(cap >= len + 64);
    for (auto& e : json::parse(std::string(d, len))) all.push_back(e);
    ++n;
  }
  if (n_pieces) *n_pieces = n;
  return all;
}

TEST_CASE("json array chunks: any piece size gives back the same elements") {
  const std::string text =
      "  [ {\"counts\": \"a\\\\\\\"b]},[{\", \"x\": [1, [2, {\"y\": \"]\"}]]} ,\n"
      "{\"s\": \"\\\\\"}, 3, \"str,]\", [], {}, {\"counts\": \"\\\\\\\\\"}\n ]  \n";
  const std::string path = write_tmp("mixed.json", text);
  const json expected = json::parse(text);
  for (size_t target : {1, 2, 5, 17, 64, 1000, 1 << 20}) {
    CAPTURE(target);
    size_t n = 0;
    CHECK(read_pieces(path, target, &n) == expected);
    if (target == 1) CHECK(n == expected.size());
  }
  fs::remove(path);

  const std::string fixture = "tests/fixtures/cocoeval/small/results_segm.json";
  std::ifstream f(fixture);
  const json whole = json::parse(f);
  size_t n = 0;
  CHECK(read_pieces(fixture, 4096, &n) == whole);
  CHECK(n > 10);
}

TEST_CASE("json array chunks: empty arrays and malformed files") {
  const std::string empty = write_tmp("empty.json", "[ ]");
  CHECK(read_pieces(empty, 16).empty());
  fs::remove(empty);
  for (const char* bad : {"{\"a\": 1}", "[1, 2", "[1, 2] x", "[{\"a\": \"unterminated]", "[1}, 2]", ""}) {
    CAPTURE(bad);
    const std::string p = write_tmp("bad.json", bad);
    CHECK_THROWS_AS(read_pieces(p, 1), Error);
    fs::remove(p);
  }
}

// fuzz_coco_results: a file that is no json list threw from the constructor after fopen, and a
// destructor does not run then: every such file leaked a descriptor until fopen itself failed.
TEST_CASE("json array chunks: a file rejected by the constructor leaves no descriptor open") {
  const std::string bad = write_tmp("notalist.json", "{\"a\": 1}");
  auto open_fds = [] { return std::distance(fs::directory_iterator("/proc/self/fd"), fs::directory_iterator{}); };
  const auto before = open_fds();
  for (int i = 0; i < 50; ++i) CHECK_THROWS_AS(JsonArrayChunks(bad, 64), Error);
  CHECK(open_fds() == before);
  fs::remove(bad);
}
