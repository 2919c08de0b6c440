// A look at a binary PGM/PPM header before stb_image parses it (internal header).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace mabdet {

// Fails naming `name` if a P5/P6 header's width, height or maximum value has more than fits in
// an image size (over 2^24): stb_image 2.27 (Debian 12's libstb) accumulates each of them in an
// int without a bound, a signed overflow for a 10-digit number. Also if the pixels the header
// announces are not all there: stb then returns the missing part as uninitialized memory. Reads
// the header exactly as stb does (whitespace, '#' comments); anything else malformed is left to
// the decoder.
void check_pnm_header(const uint8_t* d, size_t n, const std::string& name);

}  // namespace mabdet
