// Image bytes -> decode_image_memory (stb_image, with mabdet's truncation checks in front): PNG,
// JPEG and whatever else the decoder accepts must decode to a consistent RGB image or fail cleanly.
#include "data/jpeg_tables.h"
#include "data/pnm.h"
#include "fuzz_util.h"
#include "mabdet/data/image.h"

// stb_image's own header probe (compiled into the library by src/data/stb_impl.cpp).
extern "C" int stbi_info_from_memory(const unsigned char* buffer, int len, int* x, int* y, int* comp);

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // A 300-byte TGA or BMP header may describe a 65000x224 image that stb fills from past the end
  // of the data: seconds per input under ASan. Such sizes only slow the fuzzer; skip them.
  // The probe parses headers with stb's own code, so mabdet's JPEG table and PNM header checks go
  // first (what they reject, the decode below rejects anyway).
  bool probe = size <= size_t(1) << 30;
  try {
    mabdet::check_jpeg_huffman_tables(data, size, "fuzz.img");
    mabdet::PnmHeader pnm;
    mabdet::read_pnm_header(data, size, "fuzz.img", pnm);
  } catch (const mabdet::Error&) {
    probe = false;
  }
  int w = 0, h = 0, c = 0;
  if (probe && stbi_info_from_memory(data, int(size), &w, &h, &c) && int64_t(w) * h > (1 << 20)) return 0;
  mabdet_fuzz::expect_clean([&] {
    const mabdet::Image img = mabdet::decode_image_memory(data, size, "fuzz.img");
    if (img.w < 1 || img.h < 1 || img.pix.size() != size_t(img.w) * img.h * 3) {
      std::fprintf(stderr, "fuzz_image: decoded %dx%d with %zu bytes\n", img.w, img.h, img.pix.size());
      std::abort();
    }
  });
  return 0;
}
