// A look at a JPEG's Huffman tables before stb_image builds them (internal header).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace mabdet {

// Fails naming `name` if a DHT segment declares more than 256 codes in one table: stb_image 2.27
// (Debian 12's libstb) writes past its 257-entry size list building such a table. Walks the
// markers the way the decoder meets them, entropy-coded scan data included; anything else that is
// malformed is left to the decoder to reject.
void check_jpeg_huffman_tables(const uint8_t* d, size_t n, const std::string& name);

// Fails naming `name` if a scan decodes with a Huffman table no DHT segment before it defined:
// stb_image 2.27 then decodes with its uninitialized table memory (an out-of-bounds symbol index,
// found by fuzz_image). For the stb path only: libjpeg falls back to the standard tables there,
// as motion-JPEG frames without DHT segments expect.
void check_jpeg_scan_tables(const uint8_t* d, size_t n, const std::string& name);

}  // namespace mabdet
