// Inputs the fuzz targets (fuzz/, docs/fuzzing.md) found crashing, hanging or tripping a sanitizer,
// each reduced to the call that failed. Some only fail under `make sanitize` (undefined behaviour
// that a plain build happens to survive); their expected values are pycocotools' or the loader's.
#include <doctest/doctest.h>

#include <cstring>
#include <fstream>
#include <iterator>

#include "mabdet/data/image.h"
#include "mabdet/mask.h"
#include "test_util.h"

using namespace mabdet;

// fuzz_mask: a repeated vertex is an edge of length zero, whose slope was 0/0 converted to int.
TEST_CASE("fuzz regression: polygon with repeated vertices rasterizes like pycocotools") {
  const double dup_first[] = {2, 2, 2, 2, 10, 2, 10, 10, 2, 10};
  CHECK(rle_to_string(rle_from_polygon(dup_first, 5, 12, 12)) == "j0840000000000000f0");
  const double dups[] = {1.5, 3, 7, 3, 7, 3, 7, 9.2, 1.5, 9.2, 1.5, 9.2};
  const Rle r = rle_from_polygon(dups, 6, 11, 9);
  CHECK(rle_to_string(r) == "i0650000000c0");
  CHECK(rle_area(r) == 30);
  const double one_point[] = {4, 4, 4, 4, 4, 4};
  CHECK(rle_area(rle_from_polygon(one_point, 3, 8, 8)) == 0);
}

// fuzz_image: a DHT segment whose 16 code counts add up to more than 256 made stb_image 2.27 write
// past its Huffman size list (UBSan: index 257 out of bounds). Now rejected before decoding, in a
// baseline header and in a table that comes after a first scan (progressive files have those).
TEST_CASE("fuzz regression: JPEG Huffman table with more than 256 codes is a clean error") {
  std::vector<uint8_t> dht = {0xFF, 0xC4, 0x00, 0x13, 0x00};
  for (int i = 0; i < 16; ++i) dht.push_back(0x20);  // 16 x 32 = 512 codes
  auto jpeg = [&](std::vector<uint8_t> v) {
    for (uint8_t b : dht) v.push_back(b);
    v.push_back(0xFF);
    v.push_back(0xD9);
    return v;
  };
  const std::vector<uint8_t> early = jpeg({0xFF, 0xD8});
  CHECK(mabdet::test::error_of([&] { decode_image_memory(early.data(), early.size(), "x.jpg"); }) ==
        "x.jpg: corrupt JPEG (a Huffman table declares 512 codes; at most 256)");
  // The same table after a scan header and some entropy-coded bytes (with a stuffed 0xFF00).
  const std::vector<uint8_t> late = jpeg({0xFF, 0xD8, 0xFF, 0xDA, 0x00, 0x08, 1, 1, 0, 0, 63, 0, 0x12, 0xFF, 0x00, 0x34});
  CHECK(mabdet::test::error_of([&] { decode_image_memory(late.data(), late.size(), "y.jpg"); }).find("512 codes") !=
        std::string::npos);
  // Extra 0xFF fill before the start-of-image marker, which the decoder skips.
  const std::vector<uint8_t> fill = jpeg({0xFF, 0xFF, 0xFF, 0xD8});
  CHECK(mabdet::test::error_of([&] { decode_image_memory(fill.data(), fill.size(), "f.jpg"); }).find("512 codes") !=
        std::string::npos);
  // A table whose segment runs past the end of the file: the decoder builds it all the same.
  std::vector<uint8_t> cut = {0xFF, 0xD8, 0xFF, 0xC4, 0x01, 0x00, 0x10};
  for (int i = 0; i < 16; ++i) cut.push_back(0x11);  // 272 codes, segment length 256, file ends
  cut.insert(cut.end(), {0xFF, 0xD9});
  CHECK(mabdet::test::error_of([&] { decode_image_memory(cut.data(), cut.size(), "z.jpg"); }) ==
        "z.jpg: corrupt JPEG (a Huffman table declares 272 codes; at most 256)");
}

// The last two cases are stb_image's bugs, so they call it whatever the build; the build's own
// decoder (OpenCV by default) must reject the same bytes with an error naming the file.
namespace {
std::string file_bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  REQUIRE(f.good());
  return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

// The message decode_image_stb ends in for these bytes ("" when it decodes them).
std::string stb_error(const std::string& bytes, const std::string& name) {
  return mabdet::test::error_of(
      [&] { decode_image_stb(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), name); });
}

bool clean_error(const std::string& bytes, const std::string& name) {
  const std::string e = mabdet::test::error_of(
      [&] { decode_image_memory(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), name); });
  return e.rfind(name + ": ", 0) == 0;
}
}  // namespace

// fuzz_image: stb_image reads this PPM header ("1" then a byte that is no digit) as a 1x0 image and
// returns it as decoded; an image without pixels is now an error.
TEST_CASE("fuzz regression: a decoded image with no pixels is an error") {
  const std::string ppm = "P6\n1\xe9" "3 9\n255\n\x01\x02\x03";
  CHECK(mabdet::test::error_of([&] {
          decode_image_stb(reinterpret_cast<const uint8_t*>(ppm.data()), ppm.size(), "p.ppm");
        }) == "p.ppm: image has no pixels (1x0)");
  CHECK(clean_error(ppm, "p.ppm"));
}

// fuzz_image: a PNG whose first IDAT chunk is empty made stb_image memcpy zero bytes into a null
// buffer (UBSan: null argument); stb_impl.cpp is built without that check. The file must still
// end in the decoder's own error, and `make sanitize` must pass through it.
TEST_CASE("fuzz regression: PNG with an empty first IDAT chunk") {
  const std::string path = "tests/fixtures/fuzz/png_empty_first_idat.png";
  const std::string png = file_bytes(path);
  CHECK(stb_error(png, path) == path + ": cannot decode image (PNG not supported: unknown PNG chunk type)");
  CHECK(clean_error(png, path));
}

// fuzz_image: stb_image 2.27 reads a PNM header's numbers into an int without a bound, so a
// 10-digit width is a signed overflow (UBSan) before anything checks it; the header is now read
// first as stb reads it, and a number over 2^24 (stb's largest image side) is an error.
TEST_CASE("fuzz regression: a PPM header number too long for an int is a clean error") {
  const std::string found = "P6\n8888888888888888888888888888888888888888888888888888888888888888812\n9 35\0005";
  const std::string want = "f.ppm: corrupt PNM header (its width has more digits than any image: over 16777216)";
  auto err = [](const std::string& b, const char* name, bool stb) {
    return mabdet::test::error_of([&] {
      const auto* p = reinterpret_cast<const uint8_t*>(b.data());
      if (stb) decode_image_stb(p, b.size(), name);
      else decode_image_memory(p, b.size(), name);
    });
  };
  CHECK(err(found, "f.ppm", true) == want);
  CHECK(err(found, "f.ppm", false) == want);
  CHECK(err("P5 # a comment\n4 16777217 255\n", "h.pgm", true) ==
        "h.pgm: corrupt PNM header (its height has more digits than any image: over 16777216)");
  CHECK(err("P6\n1 1\n99999999999\n", "m.ppm", true) ==
        "m.ppm: corrupt PNM header (its maximum value has more digits than any image: over 16777216)");
  // A well-formed header, comments included, still decodes: the check reads no further.
  const std::string ok = std::string("P6\n# made by hand\n2 1 # two pixels\n255\n") + "\x01\x02\x03\x04\x05\x06";
  const Image img = decode_image_stb(reinterpret_cast<const uint8_t*>(ok.data()), ok.size(), "ok.ppm");
  CHECK((img.w == 2 && img.h == 1 && img.pix[5] == 6));
  // P3 (ASCII) is no format stb reads: left to the decoder's own error.
  CHECK(err("P3\n99999999999 1\n255\n", "a.ppm", true).rfind("a.ppm: cannot decode image", 0) == 0);
}

// fuzz_image: a complete 16-bit PGM asked of stb_image 2.27 as RGB went through its 8-bit channel
// conversion and then its 16-to-8 conversion read twice that buffer (ASan heap overflow); stb also
// reads 16-bit samples in host byte order and ignores the maximum value. mabdet decodes binary
// PNM itself now: big-endian 0x1234 of 65535 is 18 of 255, and 50 of maximum 100 is 128.
TEST_CASE("fuzz regression: a 16-bit PGM decodes to gray RGB without overflowing") {
  std::string pgm = "P5\n1 3\n65535\n";
  for (uint16_t v : {0x1234, 0xff00, 0x0000}) pgm += std::string{char(v >> 8), char(v & 0xff)};  // big-endian
  const Image img = decode_image_stb(reinterpret_cast<const uint8_t*>(pgm.data()), pgm.size(), "g.pgm");
  REQUIRE((img.w == 1 && img.h == 3));
  CHECK(img.pix == std::vector<uint8_t>{18, 18, 18, 254, 254, 254, 0, 0, 0});  // 0xff00 = 65280: 254.0
  const std::string ppm = std::string("P6 1 1 100\n") + char(50) + char(100) + char(0);
  CHECK(decode_image_stb(reinterpret_cast<const uint8_t*>(ppm.data()), ppm.size(), "m.ppm").pix ==
        std::vector<uint8_t>{128, 255, 0});
  for (const char* cut : {"P6 1", "P6 1 1 255"})  // the data ends inside the header
    CHECK(mabdet::test::error_of([&] { decode_image_stb(reinterpret_cast<const uint8_t*>(cut), std::strlen(cut), "c.ppm"); }) ==
          "c.ppm: cannot decode image (the PNM header is cut short)");
  std::string found = "P5\n1 92\n355\n";
  found += std::string(184, '\x01');
  CHECK(decode_image_stb(reinterpret_cast<const uint8_t*>(found.data()), found.size(), "f.pgm").pix.size() == 92 * 3);
}

// fuzz_image: a progressive JPEG whose AC scans use a Huffman table no DHT segment defined; stb_image
// 2.27 does not initialize its tables, decoded with whatever the heap held and indexed its size list
// at -123 (UBSan). The stb path now rejects a scan's undefined table first.
TEST_CASE("fuzz regression: a JPEG scan with an undefined Huffman table is a clean error on the stb path") {
  const std::string path = "tests/fixtures/fuzz/jpeg_undefined_ac_table.jpg";
  CHECK(stb_error(file_bytes(path), path) ==
        path + ": corrupt JPEG (a scan decodes with Huffman table AC 0, which no DHT segment before it defines)");
  // A whole JPEG of the project's own writer still decodes: its tables come before its scan.
  mabdet::test::TempDir tmp;
  Image img;
  img.w = 9;
  img.h = 5;
  img.pix.assign(9 * 5 * 3, 100);
  write_jpg(tmp.path + "/a.jpg", img, 90);
  const std::string ok = file_bytes(tmp.path + "/a.jpg");
  CHECK(decode_image_stb(reinterpret_cast<const uint8_t*>(ok.data()), ok.size(), "a.jpg").w == 9);
  // Without its DHT segments (a motion-JPEG frame relies on the standard tables): stb cannot.
  std::string bare;
  for (size_t i = 0; i < ok.size();) {
    if (i + 3 < ok.size() && uint8_t(ok[i]) == 0xFF && uint8_t(ok[i + 1]) == 0xC4) {
      i += 2 + (size_t(uint8_t(ok[i + 2])) << 8 | uint8_t(ok[i + 3]));
      continue;
    }
    bare += ok[i++];
  }
  CHECK(stb_error(bare, "b.jpg") == "b.jpg: corrupt JPEG (a scan decodes with Huffman table DC 0, which no DHT segment before it defines)");
}
