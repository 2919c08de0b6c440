// Compact storage of json segmentations and their conversion to masks (pycocotools' annToRLE).
#include <cmath>

#include "mabdet/coco_eval.h"
#include "mabdet/error.h"

namespace mabdet {

uint32_t SegmStore::add_none() {
  entries_.push_back({kNone, 0, 0, 0, 0});
  return uint32_t(entries_.size() - 1);
}

uint32_t SegmStore::add_string(std::string_view counts, uint32_t h, uint32_t w) {
  entries_.push_back({kString, h, w, uint32_t(counts.size()), chars_.append(counts)});
  return uint32_t(entries_.size() - 1);
}

uint32_t SegmStore::add_counts(const std::vector<double>& counts, uint32_t h, uint32_t w) {
  entries_.push_back({kCounts, h, w, uint32_t(counts.size()), nums_.size()});
  nums_.insert(nums_.end(), counts.begin(), counts.end());
  return uint32_t(entries_.size() - 1);
}

uint32_t SegmStore::add_polygons(const std::vector<double>& coords,
                                 const std::vector<uint32_t>& lens) {
  entries_.push_back({kPolygons, 0, 0, uint32_t(lens.size()), nums_.size()});
  nums_.insert(nums_.end(), lens.begin(), lens.end());
  nums_.insert(nums_.end(), coords.begin(), coords.end());
  return uint32_t(entries_.size() - 1);
}

Rle SegmStore::to_rle(uint32_t i, uint32_t img_h, uint32_t img_w) const {
  const Entry& e = entries_[i];
  switch (Kind(e.kind)) {
    case kNone:
      fail("has no segmentation");
    case kString: {
      Rle r = rle_from_string(chars_.view(e.off, e.n), e.h, e.w);
      rle_check(r);
      return r;
    }
    case kCounts: {
      Rle r{e.h, e.w, {}};
      r.counts.reserve(e.n);
      for (uint32_t j = 0; j < e.n; ++j) {
        const double c = nums_[e.off + j];
        if (!(c >= 0) || c != std::floor(c) || c > 4294967295.0)
          fail("has an RLE count that is not a non-negative integer");
        r.counts.push_back(uint32_t(c));
      }
      rle_check(r);
      return r;
    }
    case kPolygons: {
      if (e.n == 0) fail("has an empty polygon list");
      const double* lens = &nums_[e.off];
      const double* xy = lens + e.n;
      // pycocotools rejects a first polygon of fewer than 2 points. One of exactly 2 points
      // (4 values) it mistakes for a list of boxes and crashes on (pycocotools 2.0.x); here it
      // is rasterized as the degenerate polygon it is.
      if (lens[0] < 4) fail("has a polygon with fewer than 2 points");
      std::vector<Rle> parts;
      parts.reserve(e.n);
      for (uint32_t p = 0; p < e.n; ++p) {
        const size_t len = size_t(lens[p]);
        parts.push_back(rle_from_polygon(xy, len / 2, img_h, img_w));
        xy += len;
      }
      return rle_merge(parts);
    }
  }
  fail("unknown segmentation kind");
}

}  // namespace mabdet
