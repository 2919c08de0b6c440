#include "data/pnm_header.h"

#include "mabdet/error.h"

namespace mabdet {

namespace {
// stb_image's memory reader: a byte, or 0 once the data is used up; "at end" once the last byte
// has been taken (so the last byte itself never counts as a digit, as in stb).
struct Reader {
  const uint8_t* d;
  size_t n, at = 0;
  bool eof() const { return at >= n; }
  char get() { return at < n ? char(d[at++]) : 0; }
};

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'; }

void skip_space(Reader& r, char& c) {
  for (;;) {
    while (!r.eof() && is_space(c)) c = r.get();
    if (r.eof() || c != '#') return;
    while (!r.eof() && c != '\n' && c != '\r') c = r.get();
  }
}
}  // namespace

void check_pnm_header(const uint8_t* d, size_t n, const std::string& name) {
  Reader r{d, n};
  const char p = r.get(), t = r.get();
  if (p != 'P' || (t != '5' && t != '6')) return;  // the only PNM kinds stb reads
  constexpr int64_t kMax = int64_t(1) << 24;       // stb's own largest width or height
  char c = r.get();
  for (const char* field : {"width", "height", "maximum value"}) {
    skip_space(r, c);
    int64_t v = 0;
    while (!r.eof() && c >= '0' && c <= '9') {
      v = v * 10 + (c - '0');
      if (v > kMax) fail(name, ": corrupt PNM header (its ", field, " has more digits than any image: over ", kMax, ")");
      c = r.get();
    }
  }
}

}  // namespace mabdet
