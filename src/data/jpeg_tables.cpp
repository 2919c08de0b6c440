#include "data/jpeg_tables.h"

#include "mabdet/error.h"

namespace mabdet {

void check_jpeg_huffman_tables(const uint8_t* d, size_t n, const std::string& name) {
  // The decoder takes any number of 0xFF fill bytes before the start-of-image marker too.
  size_t p = 0;
  while (p < n && d[p] == 0xFF) ++p;
  if (p == 0 || p >= n || d[p] != 0xD8) return;
  ++p;
  while (p + 1 < n) {
    if (d[p] != 0xFF) {  // inside scan data: the next marker is an 0xFF not followed by 0 or RSTn
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
    if (len < 2) return;
    if (m == 0xC4) {
      // stb_image builds each table as soon as it has read its counts, so a segment cut short by
      // the end of the file counts too (bytes past the end read as 0).
      for (size_t q = p + 2; q < p + len && q < n;) {
        size_t codes = 0;
        for (size_t i = q + 1; i <= q + 16 && i < n; ++i) codes += d[i];
        if (codes > 256) fail(name, ": corrupt JPEG (a Huffman table declares ", codes, " codes; at most 256)");
        q += 17 + codes;
      }
    }
    if (p + len > n) return;
    p += len;
  }
}

}  // namespace mabdet
