// Binary PGM/PPM (P5/P6): the header read exactly as stb_image reads it, and the decode stb_image
// 2.27 gets wrong (internal header).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

#include "mabdet/data/image.h"

namespace mabdet {

struct PnmHeader {
  int64_t w = 0, h = 0, maxval = 0;
  int channels = 0;      // 1 (P5) or 3 (P6)
  size_t pixels_at = 0;  // where the samples start
  bool cut = false;      // the data ended inside the header
  int64_t bytes() const { return w * h * channels * (maxval > 255 ? 2 : 1); }
};

// False when d is no P5/P6 file. Fails naming `name` when a width, height or maximum value is
// over 2^24 (stb_image accumulates them in an int without a bound: a 10-digit number overflows
// it), or when the samples the header announces are not all there (stb returned the missing ones
// as uninitialized memory). A header stb would reject itself (a zero side, a maximum over 65535,
// no room for the numbers) returns true with the fields as read, for the decoder to refuse.
bool read_pnm_header(const uint8_t* d, size_t n, const std::string& name, PnmHeader& out);

// A P5/P6 file whose header read_pnm_header accepted, as 8-bit RGB: 16-bit samples big-endian as
// the format says (stb 2.27 reads them in host order, and overflows converting 16-bit gray),
// every sample scaled from 0..maxval to 0..255.
Image decode_pnm(const uint8_t* d, size_t n, const std::string& name, const PnmHeader& h);

}  // namespace mabdet
