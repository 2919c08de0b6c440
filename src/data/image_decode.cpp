// Image decode and write over stb_image / stb_image_write (compiled in stb_impl.cpp).
#include <stb/stb_image.h>
#include <stb/stb_image_write.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#ifdef MABDET_OPENCV
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#endif

#include "data/jpeg_tables.h"
#include "data/pnm.h"
#include "mabdet/data/image.h"
#include "mabdet/error.h"
#include "mabdet/file_check.h"

namespace mabdet {
namespace {
std::vector<uint8_t> read_bytes(const std::string& path) {
  require_file(path, "an image");
  std::ifstream f(path, std::ios::binary | std::ios::ate);
  if (!f) fail(path, ": cannot open image (", std::strerror(errno), ")");
  std::streamoff n = f.tellg();
  if (n < 0) fail(path, ": cannot read image");
  if (n == 0) fail(path, ": image file is empty (0 bytes)");
  std::vector<uint8_t> buf(static_cast<size_t>(n));
  f.seekg(0);
  if (!f.read(reinterpret_cast<char*>(buf.data()), n)) fail(path, ": read error");
  return buf;
}

// Both decoders accept some truncated files, filling the missing part with grey or black. A
// truncated PNG lacks its IEND chunk and a truncated JPEG its EOI marker; an uncompressed BMP is
// shorter than its header's pixel offset plus rows: reject them up front so that a half-copied
// dataset fails instead of training on garbage. (PNM: read_pnm_header.)
void check_complete(const uint8_t* d, size_t n, const std::string& name) {
  static const uint8_t png_sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  static const uint8_t iend[8] = {'I', 'E', 'N', 'D', 0xAE, 0x42, 0x60, 0x82};
  if (n >= 8 && !std::memcmp(d, png_sig, 8)) {
    // Scanned back from the end, so data some tools append after IEND is allowed.
    bool found = false;
    for (size_t i = n - 8; i >= 8 && !found; --i) found = !std::memcmp(d + i, iend, 8);
    if (!found) fail(name, ": truncated PNG (no IEND chunk)");
  } else if (n >= 2 && d[0] == 0xFF && d[1] == 0xD8) {
    // Scan back from the end: some writers append data after EOI, so any EOI passes. (An EXIF
    // thumbnail's own EOI can hide a cut in the main image: never a false alarm, sometimes a miss;
    // stb_image then rejects the file itself.)
    bool eoi = false;
    for (size_t i = n - 1; i >= 1 && !eoi; --i) eoi = d[i - 1] == 0xFF && d[i] == 0xD9;
    if (!eoi) fail(name, ": truncated JPEG (no end-of-image marker)");
  } else if (n >= 34 && d[0] == 'B' && d[1] == 'M') {
    auto u16 = [&](size_t at) { return int64_t(d[at]) | int64_t(d[at + 1]) << 8; };
    auto u32 = [&](size_t at) { return u16(at) | u16(at + 2) << 16; };
    auto i32 = [&](size_t at) { return int64_t(int32_t(uint32_t(u32(at)))); };
    const int64_t offset = u32(10), header = u32(14);
    int64_t w = 0, h = 0, bpp = 0, compression = 0;
    if (header == 12) {  // OS/2's BITMAPCOREHEADER
      w = u16(18), h = u16(20), bpp = u16(24);
    } else if (header >= 40) {
      w = i32(18), h = i32(22), bpp = u16(28), compression = u32(30);
    }
    h = h < 0 ? -h : h;  // negative: rows stored top-down
    // Uncompressed rows (or bit fields) only: what else there is the decoder rejects or checks.
    if ((compression == 0 || compression == 3) && w >= 1 && w <= (1 << 24) && h >= 1 && h <= (1 << 24) &&
        bpp >= 1 && bpp <= 32) {
      const int64_t need = offset + (bpp * w + 31) / 32 * 4 * h;
      if (int64_t(n) < need)
        fail(name, ": truncated BMP (", w, "x", h, " at ", bpp, " bits from byte ", offset, " needs ", need,
             " bytes, the file has ", n, ")");
    }
  }
}
}  // namespace

const char* image_decoder_name() {
#ifdef MABDET_OPENCV
  return "opencv";
#else
  return "stb_image";
#endif
}

namespace {
// The checks both decoders get: a table with more than 256 codes breaks the JPEG standard (and
// overflowed stb_image); libjpeg rejects it too, but without saying why. A PNM header number too
// long for any image overflowed stb_image's int.
void check_bytes(const uint8_t* data, size_t size, const std::string& name) {
  if (size == 0) fail(name, ": image file is empty (0 bytes)");
  check_complete(data, size, name);
  check_jpeg_huffman_tables(data, size, name);
  PnmHeader pnm;
  read_pnm_header(data, size, name, pnm);
}

// Binary PGM/PPM is decoded here (src/data/pnm.cpp): stb_image 2.27 reads 16-bit samples in host
// byte order, ignores the maximum value, and overflows its buffer converting a 16-bit PGM to RGB
// (found by fuzz_image).
Image stb_decode(const uint8_t* data, size_t size, const std::string& name) {
  PnmHeader pnm;
  if (read_pnm_header(data, size, name, pnm)) return decode_pnm(data, size, name, pnm);
  check_jpeg_scan_tables(data, size, name);
  int w = 0, h = 0, c = 0;
  uint8_t* p = stbi_load_from_memory(data, int(size), &w, &h, &c, 3);
  if (!p) fail(name, ": cannot decode image (", stbi_failure_reason(), ")");
  if (w < 1 || h < 1) {  // stb_image accepts a zero height in some formats (found by fuzz_image)
    stbi_image_free(p);
    fail(name, ": image has no pixels (", w, "x", h, ")");
  }
  Image img;
  img.w = w;
  img.h = h;
  img.pix.assign(p, p + size_t(w) * h * 3);
  stbi_image_free(p);
  return img;
}
}  // namespace

Image decode_image_memory(const uint8_t* data, size_t size, const std::string& name) {
  check_bytes(data, size, name);
#ifdef MABDET_OPENCV
  Image img;
  cv::Mat raw(1, int(size), CV_8UC1, const_cast<uint8_t*>(data));
  cv::Mat bgr = cv::imdecode(raw, cv::IMREAD_COLOR);
  if (bgr.empty()) fail(name, ": cannot decode image (opencv imdecode failed)");
  img.w = bgr.cols;
  img.h = bgr.rows;
  img.pix.resize(size_t(img.w) * img.h * 3);
  cv::Mat rgb(img.h, img.w, CV_8UC3, img.pix.data());
  cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
  return img;
#else
  return stb_decode(data, size, name);
#endif
}

Image decode_image_stb(const uint8_t* data, size_t size, const std::string& name) {
  check_bytes(data, size, name);
  return stb_decode(data, size, name);
}

Image decode_image(const std::string& path) {
  std::vector<uint8_t> buf = read_bytes(path);
  return decode_image_memory(buf.data(), buf.size(), path);
}

void write_png(const std::string& path, const Image& img) {
  if (!stbi_write_png(path.c_str(), img.w, img.h, 3, img.pix.data(), img.w * 3))
    fail(path, ": cannot write PNG");
}

void write_jpg(const std::string& path, const Image& img, int quality) {
  if (!stbi_write_jpg(path.c_str(), img.w, img.h, 3, img.pix.data(), quality)) fail(path, ": cannot write JPEG");
}

}  // namespace mabdet
