// Reads a file holding one top-level json array in pieces of whole elements, each handed out as a
// small json array of its own. simdjson indexes a whole document at once (4 bytes per structural
// character), so parsing a 500k-result file piecewise keeps that index and the text buffer at a
// few megabytes instead of hundreds. (internal header)
#pragma once
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "mabdet/error.h"

namespace mabdet {

// A problem inside the list (the caller knows which entry it reached, so it names it).
struct JsonElementError : Error {
  using Error::Error;
};

class JsonArrayChunks {
 public:
  // target: roughly how many bytes of elements per piece.
  explicit JsonArrayChunks(const std::string& path, size_t target = size_t(8) << 20);
  JsonArrayChunks(const JsonArrayChunks&) = delete;
  JsonArrayChunks& operator=(const JsonArrayChunks&) = delete;

  // The next piece as "[elem, ..., elem]" at data[0, len), with at least 64 readable bytes after
  // it (simdjson's padding); false after the last. Throws mabdet::Error (with the path) on a file
  // that is not a json array or has content after it, JsonElementError (without the path) on an
  // element that is cut off or has unbalanced brackets.
  bool next(const char*& data, size_t& len, size_t& capacity);
  size_t file_size() const { return file_size_; }

 private:
  void fill();  // reads more of the file after end_, growing the buffer if it is full
  size_t element_end(size_t p);  // position of the ',' or ']' closing the element at p, or npos

  std::string path_;
  // Owned, so that a constructor that fails after opening (not a list, a read error) closes it:
  // a destructor does not run then, and a long run of bad files leaked descriptors (fuzz_coco_results).
  struct Closer {
    void operator()(FILE* f) const { std::fclose(f); }
  };
  std::unique_ptr<FILE, Closer> file_;
  bool eof_ = false, closed_ = false, done_ = false;
  size_t target_, file_size_ = 0;
  std::vector<char> buf_;
  size_t begin_ = 0, end_ = 0;  // unconsumed bytes; buf_[begin_ - 1] is the preceding '[' or ','
};

}  // namespace mabdet
