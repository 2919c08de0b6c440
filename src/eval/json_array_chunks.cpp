#include "eval/json_array_chunks.h"

#include <algorithm>
#include <cstring>

#include "mabdet/error.h"
#include "mabdet/file_check.h"

namespace mabdet {

static constexpr size_t kPad = 64;
static constexpr size_t npos = size_t(-1);

static bool is_space(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

JsonArrayChunks::JsonArrayChunks(const std::string& path, size_t target)
    : path_(path), target_(target) {
  require_file(path, "a results json");
  file_.reset(std::fopen(path.c_str(), "rb"));
  FILE* f = file_.get();
  if (!f) fail(path, ": cannot read file");
  if (std::fseek(f, 0, SEEK_END) == 0) {
    const long n = std::ftell(f);
    file_size_ = n > 0 ? size_t(n) : 0;
    std::fseek(f, 0, SEEK_SET);
  }
  // A small file needs no 16 MB buffer (zeroing it dominated loading a few results).
  const size_t first = file_size_ ? std::min(target_, file_size_) : target_;
  buf_.resize(2 * first + kPad + 1);
  begin_ = end_ = 1;
  for (;;) {
    while (begin_ < end_ && is_space(buf_[begin_])) ++begin_;
    if (begin_ < end_ || eof_) break;
    fill();
  }
  if (begin_ >= end_ || buf_[begin_] != '[')
    fail(path, ": the top level is not a json list of results");
  ++begin_;
}

void JsonArrayChunks::fill() {
  if (eof_) return;
  // Keep one byte before the unconsumed part: it becomes the next piece's '['.
  if (begin_ > 1) {
    std::memmove(buf_.data(), buf_.data() + begin_ - 1, end_ - begin_ + 1);
    end_ -= begin_ - 1;
    begin_ = 1;
  }
  if (buf_.size() - end_ < target_ + kPad) buf_.resize(2 * buf_.size());
  const size_t want = buf_.size() - end_ - kPad;
  const size_t got = std::fread(buf_.data() + end_, 1, want, file_.get());
  end_ += got;
  if (got < want) {
    if (std::ferror(file_.get())) fail(path_, ": cannot read file");
    eof_ = true;
  }
}

size_t JsonArrayChunks::element_end(size_t p) {
  const char* d = buf_.data();
  int depth = 0;
  while (p < end_) {
    const char c = d[p];
    if (c == '"') {
      // Skip the string: find a quote preceded by an even number of backslashes.
      const size_t s = p + 1;
      size_t q = s;
      for (;;) {
        const void* hit = std::memchr(d + q, '"', end_ - q);
        if (!hit) return npos;
        q = size_t(static_cast<const char*>(hit) - d);
        size_t b = q;
        while (b > s && d[b - 1] == '\\') --b;
        if ((q - b) % 2 == 0) break;
        ++q;
      }
      p = q + 1;
      continue;
    }
    if (c == '{' || c == '[') ++depth;
    else if (c == '}' || c == ']') {
      if (depth == 0) return c == ']' ? p : npos - 1;  // a stray '}' closes the array: malformed
      --depth;
    } else if (c == ',' && depth == 0) {
      return p;
    }
    ++p;
  }
  return npos;
}

bool JsonArrayChunks::next(const char*& data, size_t& len, size_t& capacity) {
  if (done_) return false;
  if (closed_) {
    // After the closing ']' only blanks may follow, to the end of the file.
    for (;;) {
      for (size_t q = begin_; q < end_; ++q)
        if (!is_space(buf_[q])) fail(path_, ": malformed json (trailing content after the results list)");
      if (eof_) break;
      begin_ = end_;
      fill();
    }
    done_ = true;
    return false;
  }
  for (;;) {
    // Take whole elements until the piece is big enough or the array ends.
    size_t p = begin_, last_sep = npos;
    while (p - begin_ < target_) {
      const size_t e = element_end(p);
      if (e == npos) break;  // need more text
      if (e == npos - 1) throw JsonElementError("malformed json (unbalanced brackets)");
      last_sep = e;
      p = e + 1;
      if (buf_[e] == ']') {
        closed_ = true;
        break;
      }
    }
    if (last_sep == npos) {
      if (eof_) throw JsonElementError("malformed json (the file ends inside this entry)");
      fill();
      continue;
    }
    // buf_[begin_ - 1] is the '[' or ',' before the first element; buf_[last_sep] the ',' or ']'
    // after the last: rewriting them makes the piece a json array of its own.
    buf_[begin_ - 1] = '[';
    buf_[last_sep] = ']';
    data = buf_.data() + begin_ - 1;
    len = last_sep + 2 - begin_;
    capacity = buf_.size() - (begin_ - 1);
    begin_ = last_sep + 1;
    return true;
  }
}

}  // namespace mabdet
