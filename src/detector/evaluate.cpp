// The val split through the detector, then COCO evaluation in memory (src/eval).
#include <chrono>

#include "mabdet/data/loader.h"
#include "mabdet/detector.h"

namespace mabdet {

EvalReport evaluate_detector(Detector& det, Context& ctx, const CocoDataset& ds, const CocoGroundTruth& gt, int batch,
                             int threads) {
  const auto t0 = std::chrono::steady_clock::now();
  LoaderOptions opt;
  opt.batch_size = batch;
  opt.threads = threads;
  opt.train = false;
  opt.masks = false;
  opt.group_aspect = false;
  BatchLoader loader(ds, det.augment(), opt);
  Batch b;
  std::vector<std::vector<Detection>> per_image;
  EvalReport r;
  r.has_segm = det.has_masks();
  const Batch* saved = ctx.batch;
  while (loader.next(b)) {
    det.detect(ctx, b, per_image);
    for (int i = 0; i < b.size(); ++i)
      for (Detection& d : per_image[size_t(i)]) {
        CocoDetection c;
        c.image_id = b.meta[size_t(i)].image_id;
        c.category_id = ds.category_id(d.label);
        c.score = d.score;
        c.bbox = BoxXYWH{d.box[0], d.box[1], double(d.box[2]) - d.box[0], double(d.box[3]) - d.box[1]};
        if (d.has_mask) c.segm = std::move(d.mask);
        r.dets.push_back(std::move(c));
      }
  }
  ctx.batch = saved;
  r.bbox = coco_evaluate(gt, CocoResults::from_detections(r.dets, gt, IouType::Bbox), IouType::Bbox);
  if (r.has_segm) r.segm = coco_evaluate(gt, CocoResults::from_detections(r.dets, gt, IouType::Segm), IouType::Segm);
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

std::string EvalReport::table(const CocoGroundTruth& gt) const {
  std::string s = "bbox:\n" + coco_summary_table(bbox, gt, IouType::Bbox);
  if (has_segm) s += "segm:\n" + coco_summary_table(segm, gt, IouType::Segm);
  return s;
}

}  // namespace mabdet
