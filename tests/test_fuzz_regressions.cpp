// Inputs the fuzz targets (fuzz/, docs/fuzzing.md) found crashing, hanging or tripping a sanitizer,
// each reduced to the call that failed. Some only fail under `make sanitize` (undefined behaviour
// that a plain build happens to survive); their expected values are pycocotools' or the loader's.
#include <doctest/doctest.h>

#include "mabdet/mask.h"

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
