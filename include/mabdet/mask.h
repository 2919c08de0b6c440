// Run-length encoded binary masks with COCO's conventions, so that results agree with pycocotools'
// mask module to the pixel: masks are column-major (Fortran order, x outer, y inner), counts
// alternate background/foreground runs starting with background (a leading 0 if the first pixel
// is set), and the compressed string is COCO's 6-bits-per-char delta form.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mabdet {

struct Rle {
  uint32_t h = 0, w = 0;
  std::vector<uint32_t> counts;  // alternating runs, background first; sums to h*w
  bool operator==(const Rle& o) const { return h == o.h && w == o.w && counts == o.counts; }
};

// COCO boxes are [x, y, width, height] in pixels.
using BoxXYWH = std::array<double, 4>;

// Polygon coordinates beyond this (in pixels, either sign) are rejected: real masks lie within an
// image (at most 1e6 pixels a side), and the rasterizer's int grid must not overflow.
constexpr double kMaxPolygonCoord = 2e6;

// Throws mabdet::Error unless the counts cover exactly h*w pixels (and h*w fits 32 bits): RLE from
// a file must pass this before any run-wise operation.
void rle_check(const Rle& r);

// mask: h*w bytes, column-major (index x*h + y); any nonzero byte is foreground.
Rle rle_encode(const uint8_t* mask, uint32_t h, uint32_t w);
// Writes h*w bytes (0/1), column-major.
void rle_decode(const Rle& r, uint8_t* mask);
std::vector<uint8_t> rle_decode(const Rle& r);

// COCO's compressed "counts" string and back. Throws mabdet::Error on a malformed string.
std::string rle_to_string(const Rle& r);
Rle rle_from_string(std::string_view s, uint32_t h, uint32_t w);

// Polygon rasterization exactly as COCO's (5x upsampled boundary, y-crossings, downsampled).
// xy: x0,y0,x1,y1,... with n_points points; throws mabdet::Error on a coordinate that is not
// finite or beyond kMaxPolygonCoord.
Rle rle_from_polygon(const double* xy, size_t n_points, uint32_t h, uint32_t w);
// A box rasterized as its 4-corner polygon (COCO's frBbox).
Rle rle_from_bbox(const BoxXYWH& box, uint32_t h, uint32_t w);

// Union (or intersection) of masks of one size; masks of different sizes give an empty 0x0 Rle,
// as COCO's merge does.
Rle rle_merge(const std::vector<Rle>& rles, bool intersect = false);

uint64_t rle_area(const Rle& r);
// Tight bounding box of the foreground; all zeros for an empty mask. A mask that wraps from one
// column's bottom to the next column's top spans the full height, as in COCO.
BoxXYWH rle_to_bbox(const Rle& r);

// IoU of a detection with a ground truth; for a crowd ground truth the union is the detection's
// area alone (COCO's iscrowd rule). Masks of different sizes give -1, as in COCO.
double rle_iou(const Rle& dt, const Rle& gt, bool gt_crowd);
// The same with both masks' boxes (rle_to_bbox) already known, for evaluating many pairs.
double rle_iou(const Rle& dt, const BoxXYWH& dt_box, const Rle& gt, const BoxXYWH& gt_box, bool gt_crowd);
double box_iou(const BoxXYWH& dt, const BoxXYWH& gt, bool gt_crowd);

}  // namespace mabdet
