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
  int64_t v[3] = {};
  const char* field[3] = {"width", "height", "maximum value"};
  bool ended = false;  // the data ran out inside the header
  for (int k = 0; k < 3; ++k) {
    skip_space(r, c);
    while (!r.eof() && c >= '0' && c <= '9') {
      v[k] = v[k] * 10 + (c - '0');
      if (v[k] > kMax) fail(name, ": corrupt PNM header (its ", field[k], " has more digits than any image: over ", kMax, ")");
      c = r.get();
    }
    ended = ended || r.eof();
  }
  // What stb would decode: its own errors (a zero side, a maximum over 65535) stay its own.
  if (ended || v[0] < 1 || v[1] < 1 || v[2] < 1 || v[2] > 65535) return;
  const int64_t need = v[0] * v[1] * (t == '6' ? 3 : 1) * (v[2] > 255 ? 2 : 1);
  const int64_t have = int64_t(n - r.at);  // the pixels start right after the maximum's delimiter
  if (have < need)
    fail(name, ": truncated PNM (", v[0], "x", v[1], " needs ", need, " bytes of pixels, the file has ", have, ")");
}

}  // namespace mabdet
