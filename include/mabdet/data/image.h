// Image decode to 8-bit RGB, HWC. stb_image by default; OpenCV's imread when built with OPENCV=1
// (same pixels for PNG; JPEG within the decoders' IDCT rounding).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace mabdet {

struct Image {
  int w = 0, h = 0;             // 3 channels, RGB
  std::vector<uint8_t> pix;     // h * w * 3
  uint8_t* row(int y) { return pix.data() + size_t(y) * w * 3; }
  const uint8_t* row(int y) const { return pix.data() + size_t(y) * w * 3; }
};

// Fails naming the path: missing or unreadable file, zero bytes, or data the decoder rejects
// (truncated files included).
Image decode_image(const std::string& path);
Image decode_image_memory(const uint8_t* data, size_t size, const std::string& name);
const char* image_decoder_name();  // "stb_image" or "opencv"
// stb_image whatever the build, so OPENCV=1 builds can compare the two decoders.
Image decode_image_stb(const uint8_t* data, size_t size, const std::string& name);

// PNG writer (stb_image_write), for gendata and tests.
void write_png(const std::string& path, const Image& img);
void write_jpg(const std::string& path, const Image& img, int quality);

}  // namespace mabdet
