#include "data/jpeg_tables.h"

#include "mabdet/error.h"

namespace mabdet {

namespace {
// Calls seg(marker, offset of the segment's length field) for each marker segment from the
// start-of-image on, the way the decoder meets them: entropy-coded scan data is skipped up to the
// next 0xFF not followed by 0 or RSTn. Stops at end-of-image, at the end of the data, or when
// seg returns false. A segment may run past the end of the data.
template <class Seg>
void walk_markers(const uint8_t* d, size_t n, Seg seg) {
  // The decoder takes any number of 0xFF fill bytes before the start-of-image marker too.
  size_t p = 0;
  while (p < n && d[p] == 0xFF) ++p;
  if (p == 0 || p >= n || d[p] != 0xD8) return;
  ++p;
  while (p + 1 < n) {
    if (d[p] != 0xFF) {  // inside scan data
      ++p;
      continue;
    }
    while (p + 1 < n && d[p + 1] == 0xFF) ++p;  // fill bytes
    if (p + 1 >= n) return;
    const uint8_t m = d[p + 1];
    p += 2;
    if (m == 0x00 || (m >= 0xD0 && m <= 0xD7) || m == 0x01) continue;  // stuffed byte, RSTn, TEM
    if (m == 0xD9) return;                                            // end of image
    if (p + 2 > n) return;
    const size_t len = size_t(d[p]) << 8 | d[p + 1];
    if (len < 2 || !seg(m, p, len)) return;
    if (p + len > n) return;
    p += len;
  }
}
}  // namespace

void check_jpeg_huffman_tables(const uint8_t* d, size_t n, const std::string& name) {
  walk_markers(d, n, [&](uint8_t m, size_t p, size_t len) {
    if (m != 0xC4) return true;
    // stb_image builds each table as soon as it has read its counts, so a segment cut short by
    // the end of the file counts too (bytes past the end read as 0).
    for (size_t q = p + 2; q < p + len && q < n;) {
      size_t codes = 0;
      for (size_t i = q + 1; i <= q + 16 && i < n; ++i) codes += d[i];
      if (codes > 256) fail(name, ": corrupt JPEG (a Huffman table declares ", codes, " codes; at most 256)");
      q += 17 + codes;
    }
    return true;
  });
}

void check_jpeg_scan_tables(const uint8_t* d, size_t n, const std::string& name) {
  bool defined[2][4] = {};  // [DC, AC][table id]
  bool progressive = false;
  auto at = [&](size_t i) { return i < n ? d[i] : uint8_t(0); };  // stb reads 0 past the end
  walk_markers(d, n, [&](uint8_t m, size_t p, size_t len) {
    if (m == 0xC2) progressive = true;
    if (m == 0xC4) {
      for (size_t q = p + 2; q < p + len && q < n;) {
        const int tc = at(q) >> 4, th = at(q) & 15;
        if (tc > 1 || th > 3) return false;  // the decoder's own error
        defined[tc][th] = true;
        size_t codes = 0;
        for (size_t i = q + 1; i <= q + 16; ++i) codes += at(i);
        q += 17 + codes;
      }
    } else if (m == 0xDA) {
      const int ns = at(p + 2);
      const size_t tail = p + 3 + 2 * size_t(ns);  // Ss, Se, Ah/Al follow the components
      const int ss = at(tail), ah = at(tail + 2) >> 4;
      for (int k = 0; k < ns; ++k) {
        const int td = at(p + 4 + 2 * size_t(k)) >> 4, ta = at(p + 4 + 2 * size_t(k)) & 15;
        if (td > 3 || ta > 3) return false;  // the decoder's own error
        // Which tables this scan decodes with: baseline both; progressive DC (first pass) or AC.
        const bool dc = !progressive || (ss == 0 && ah == 0), ac = !progressive || ss > 0;
        if ((dc && !defined[0][td]) || (ac && !defined[1][ta]))
          fail(name, ": corrupt JPEG (a scan decodes with Huffman table ", dc && !defined[0][td] ? "DC " : "AC ",
               dc && !defined[0][td] ? td : ta, ", which no DHT segment before it defines)");
      }
    }
    return true;
  });
}

}  // namespace mabdet
