// COCO instances json -> both of mabdet's readers of it: the training loader (src/data/coco_json,
// load_coco_text) and the evaluator's ground truth (src/eval/coco_gt, CocoGroundTruth::load). Each
// mask the loader keeps is then turned into what training and evaluation make of it (the mask at
// image size, a per-RoI target through a flipped resize plan), for images small enough to be fast.
#include "fuzz_util.h"
#include "mabdet/coco_eval.h"
#include "mabdet/data/coco.h"
#include "mabdet/data/mask_target.h"

namespace {
constexpr int64_t kMaxPixels = 1 << 16;  // decoding masks of larger images only slows the fuzzer

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "fuzz_coco_json: %s\n", what);
    std::abort();
  }
}

void use_masks(const mabdet::CocoDataset& ds) {
  for (const mabdet::ImageRecord& im : ds.images) {
    if (int64_t(im.width) * im.height > kMaxPixels || im.width < 1 || im.height < 1) continue;
    const mabdet::ResizePlan plan = mabdet::plan_resize(im.width, im.height, 16, 24, true);
    for (const mabdet::Annotation& a : im.anns) {
      check(a.label >= 0 && a.label < ds.num_classes(), "label outside 0..K-1");
      if (a.mask.empty()) continue;
      mabdet_fuzz::expect_clean([&] {
        const mabdet::Rle r = mabdet::gt_mask_rle(a.mask, im.height, im.width);
        uint64_t sum = 0;
        for (uint32_t c : r.counts) sum += c;
        check(sum == uint64_t(r.h) * r.w, "mask counts do not sum to h*w");
      });
      mabdet_fuzz::expect_clean([&] {
        float box[4], target[8 * 8];
        mabdet::transform_box(plan, a.box, box);
        mabdet::mask_target(a.mask, plan, box, 8, target);
      });
    }
  }
}

void use_gt(const mabdet::CocoGroundTruth& gt) {
  for (const mabdet::CocoGroundTruth::Ann& a : gt.anns) {
    const uint32_t h = gt.image_h[size_t(a.img)], w = gt.image_w[size_t(a.img)];
    if (int64_t(h) * w > kMaxPixels) continue;
    mabdet_fuzz::expect_clean([&] { (void)mabdet::rle_area(gt.segms.to_rle(a.segm, h, w)); });
  }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static mabdet_fuzz::ScratchCleanup cleanup{".json"};
  const std::string text(reinterpret_cast<const char*>(data), size);
  for (bool filter_empty : {true, false}) {
    mabdet::CocoLoadOptions opt;
    opt.filter_empty = filter_empty;
    mabdet_fuzz::expect_clean([&] { use_masks(mabdet::load_coco_text(text, "fuzz.json", "images", opt)); });
  }
  const std::string path = mabdet_fuzz::write_scratch(data, size, ".json");
  mabdet_fuzz::expect_clean([&] { use_gt(mabdet::CocoGroundTruth::load(path)); });
  return 0;
}
