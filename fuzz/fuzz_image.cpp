// Image bytes -> decode_image_memory (stb_image, with mabdet's truncation checks in front): PNG,
// JPEG and whatever else the decoder accepts must decode to a consistent RGB image or fail cleanly.
#include "fuzz_util.h"
#include "mabdet/data/image.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  mabdet_fuzz::expect_clean([&] {
    const mabdet::Image img = mabdet::decode_image_memory(data, size, "fuzz.img");
    if (img.w < 1 || img.h < 1 || img.pix.size() != size_t(img.w) * img.h * 3) {
      std::fprintf(stderr, "fuzz_image: decoded %dx%d with %zu bytes\n", img.w, img.h, img.pix.size());
      std::abort();
    }
  });
  return 0;
}
