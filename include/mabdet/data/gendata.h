// A seeded synthetic COCO dataset: shapes on textured backgrounds with clutter, occlusion, objects
// of all three COCO size ranges and a few crowd regions. Annotations come from the final rendered
// label map, so an occluded object's mask and box describe only its visible part: fully visible
// objects are written as their polygon (whose COCO rasterization is exactly the rendered shape),
// occluded ones as RLE (alternately uncompressed counts and compressed strings), crowds as
// uncompressed RLE with iscrowd=1.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "mabdet/data/image.h"

namespace mabdet {

struct GenDataOptions {
  int train = 200, val = 50;
  int size = 256;      // image width
  int height = 0;      // 0: heights vary in [0.75, 1] x size; else every image this tall
  uint64_t seed = 1;
};

// Category names in label order; their COCO ids have gaps, as COCO's do.
const std::vector<std::string>& gendata_names();
const std::vector<int>& gendata_category_ids();

// One generated image and its annotations as COCO json text fragments (no image id yet).
struct GenImage {
  Image img;
  std::vector<std::string> anns;  // each a json object without "id" and "image_id"
};
GenImage generate_image(int size, int height, uint64_t seed);

// Writes OUTDIR/{train,val}/*.png, OUTDIR/annotations/instances_{train,val}.json,
// OUTDIR/shapes.names and OUTDIR/shapes.data (paths relative to it).
void generate_dataset(const std::string& outdir, const GenDataOptions& opt);

}  // namespace mabdet
