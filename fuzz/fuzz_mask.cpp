// RLE and polygon masks (include/mabdet/mask.h) the way COCO json reaches them: compressed count
// strings, count lists and polygons through SegmStore (the loaders' path), boxes and polygons
// with any double (NaN, 1e308) straight into the rasterizer, then merge, IoU, area and box on
// everything that decoded. Besides crashes and hangs it checks what must hold for every mask:
// counts sum to h*w, the string form round-trips, decode/encode keep the area, IoU is in [0, 1].
#include <fuzzer/FuzzedDataProvider.h>

#include <cmath>

#include "fuzz_util.h"
#include "mabdet/coco_eval.h"
#include "mabdet/mask.h"

namespace {
using mabdet::Rle;

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "fuzz_mask: %s\n", what);
    std::abort();
  }
}

void check_mask(const Rle& r) {
  uint64_t sum = 0;
  for (uint32_t c : r.counts) sum += c;
  check(sum == uint64_t(r.h) * r.w, "counts do not sum to h*w");
  const std::vector<uint8_t> m = mabdet::rle_decode(r);
  const Rle again = mabdet::rle_encode(m.data(), r.h, r.w);
  check(mabdet::rle_area(again) == mabdet::rle_area(r), "decode+encode changed the area");
  check(mabdet::rle_from_string(mabdet::rle_to_string(again), r.h, r.w) == again, "string form does not round-trip");
  // A zero-length run after the first makes COCO's toBbox wrap around (t = cc - 1 at cc = 0);
  // mabdet gives the same box as pycocotools there, so only canonical masks must box inside.
  bool canonical = true;
  for (size_t i = 1; i < r.counts.size(); ++i) canonical = canonical && r.counts[i] > 0;
  const mabdet::BoxXYWH b = mabdet::rle_to_bbox(r);
  check(!canonical || (b[0] >= 0 && b[1] >= 0 && b[0] + b[2] <= r.w && b[1] + b[3] <= r.h), "box outside the mask");
}

// A coordinate: mostly small numbers around the mask, sometimes any bit pattern.
double coord(FuzzedDataProvider& in) {
  if (in.ConsumeIntegralInRange<int>(0, 7) == 0) return in.ConsumeFloatingPoint<double>();
  return in.ConsumeFloatingPointInRange<double>(-8.0, 72.0);
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  const uint32_t h = in.ConsumeIntegralInRange<uint32_t>(0, 64);
  const uint32_t w = in.ConsumeIntegralInRange<uint32_t>(0, 64);
  std::vector<Rle> masks;
  auto keep = [&](auto make) {
    mabdet_fuzz::expect_clean([&] {
      Rle r = make();
      check_mask(r);
      masks.push_back(std::move(r));
    });
  };
  mabdet::SegmStore store;
  while (in.remaining_bytes() > 0 && masks.size() < 12) {
    switch (in.ConsumeIntegralInRange<int>(0, 4)) {
      case 0: {  // compressed string, as in a json "counts": "..."
        const std::string s = in.ConsumeRandomLengthString(256);
        keep([&] { return store.to_rle(store.add_string(s, h, w), h, w); });
        break;
      }
      case 1: {  // uncompressed counts; json numbers, so any double
        std::vector<double> counts(in.ConsumeIntegralInRange<size_t>(0, 32));
        for (double& c : counts)
          c = in.ConsumeBool() ? double(in.ConsumeIntegralInRange<uint32_t>(0, 80)) : in.ConsumeFloatingPoint<double>();
        keep([&] { return store.to_rle(store.add_counts(counts, h, w), h, w); });
        break;
      }
      case 2: {  // polygons
        std::vector<double> xy;
        std::vector<uint32_t> lens(in.ConsumeIntegralInRange<size_t>(1, 3));
        for (uint32_t& len : lens) {
          len = in.ConsumeIntegralInRange<uint32_t>(0, 16);
          for (uint32_t k = 0; k < len; ++k) xy.push_back(coord(in));
        }
        keep([&] { return store.to_rle(store.add_polygons(xy, lens), h, w); });
        break;
      }
      case 3: {  // one polygon straight into the rasterizer
        std::vector<double> xy(2 * in.ConsumeIntegralInRange<size_t>(0, 10));
        for (double& v : xy) v = coord(in);
        keep([&] { return mabdet::rle_from_polygon(xy.data(), xy.size() / 2, h, w); });
        break;
      }
      case 4: {
        const mabdet::BoxXYWH box{coord(in), coord(in), coord(in), coord(in)};
        keep([&] { return mabdet::rle_from_bbox(box, h, w); });
        break;
      }
    }
  }
  if (masks.empty()) return 0;
  mabdet_fuzz::expect_clean([&] {
    const Rle u = mabdet::rle_merge(masks), x = mabdet::rle_merge(masks, true);
    check_mask(u);
    check_mask(x);
    uint64_t most = 0;
    for (const Rle& m : masks) most = std::max(most, mabdet::rle_area(m));
    check(mabdet::rle_area(u) >= most && mabdet::rle_area(x) <= mabdet::rle_area(u), "merge areas");
    for (size_t i = 0; i < masks.size(); ++i)
      for (size_t j = 0; j < masks.size(); ++j) {
        const double iou = mabdet::rle_iou(masks[i], masks[j], j % 2 == 1);
        check((iou >= 0 && iou <= 1) || iou == -1, "IoU outside [0, 1]");
        const double b = mabdet::box_iou(mabdet::rle_to_bbox(masks[i]), mabdet::rle_to_bbox(masks[j]), j % 2 == 1);
        check(b >= 0 && b <= 1, "box IoU outside [0, 1]");
      }
  });
  return 0;
}
