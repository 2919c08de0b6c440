// The one translation unit that compiles stb_image and stb_image_write, apart from mabdet's own
// code so that the Makefile can build it with two UBSan checks off, for reports that are
// undefined by the letter of the standard, harmless in fact, and nothing to fix from outside the
// library: stb_image 2.27 memcpy()s zero bytes into a still-null buffer on a PNG whose first IDAT
// chunk is empty (found by fuzz_image), and stb_image_write's JPEG encoder left-shifts negative
// coefficients (tests write JPEGs with it).
#define STB_IMAGE_IMPLEMENTATION
#define STBI_FAILURE_USERMSG
#include <stb/stb_image.h>
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb/stb_image_write.h>
