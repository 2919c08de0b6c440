#include "data/pnm.h"

#include <algorithm>

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

bool decodable(const PnmHeader& h) { return !h.cut && h.w >= 1 && h.h >= 1 && h.maxval >= 1 && h.maxval <= 65535; }
}  // namespace

bool read_pnm_header(const uint8_t* d, size_t n, const std::string& name, PnmHeader& out) {
  Reader r{d, n};
  const char p = r.get(), t = r.get();
  if (p != 'P' || (t != '5' && t != '6')) return false;
  out = PnmHeader{};
  out.channels = t == '6' ? 3 : 1;
  constexpr int64_t kMax = int64_t(1) << 24;  // stb's own largest width or height
  int64_t* field[3] = {&out.w, &out.h, &out.maxval};
  const char* what[3] = {"width", "height", "maximum value"};
  char c = r.get();
  for (int k = 0; k < 3; ++k) {
    skip_space(r, c);
    while (!r.eof() && c >= '0' && c <= '9') {
      *field[k] = *field[k] * 10 + (c - '0');
      if (*field[k] > kMax) fail(name, ": corrupt PNM header (its ", what[k], " has more digits than any image: over ", kMax, ")");
      c = r.get();
    }
    out.cut = out.cut || r.eof();
  }
  out.pixels_at = r.at;  // right after the maximum's delimiter
  if (!decodable(out)) return true;  // decode_pnm says what is wrong
  const int64_t have = int64_t(n - r.at);
  if (have < out.bytes())
    fail(name, ": truncated PNM (", out.w, "x", out.h, " needs ", out.bytes(), " bytes of pixels, the file has ", have, ")");
  return true;
}

Image decode_pnm(const uint8_t* d, size_t n, const std::string& name, const PnmHeader& h) {
  if (h.cut) fail(name, ": cannot decode image (the PNM header is cut short)");
  if (h.w < 1 || h.h < 1) fail(name, ": image has no pixels (", h.w, "x", h.h, ")");
  if (h.maxval < 1 || h.maxval > 65535) fail(name, ": cannot decode image (PNM maximum value ", h.maxval, " is outside 1..65535)");
  MABDET_ASSERT(int64_t(n - h.pixels_at) >= h.bytes(), "read_pnm_header checks the length");
  Image img;
  img.w = int(h.w);
  img.h = int(h.h);
  const size_t count = size_t(h.w * h.h);
  img.pix.resize(count * 3);
  const uint8_t* s = d + h.pixels_at;
  const bool wide = h.maxval > 255;
  const uint32_t m = uint32_t(h.maxval);
  for (size_t i = 0; i < count; ++i)
    for (int k = 0; k < 3; ++k) {
      const size_t at = i * size_t(h.channels) + size_t(h.channels == 3 ? k : 0);
      const uint32_t v = wide ? uint32_t(s[2 * at]) << 8 | s[2 * at + 1] : s[at];
      img.pix[i * 3 + size_t(k)] = uint8_t(m == 255 ? v : (std::min(v, m) * 255 + m / 2) / m);
    }
  return img;
}

}  // namespace mabdet
