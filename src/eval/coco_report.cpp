// Text and json renderings of a CocoEvalResult.
#include <cstdio>

#include "mabdet/coco_eval.h"

namespace mabdet {

std::string coco_summary_table(const CocoEvalResult& r, const CocoGroundTruth& gt, IouType iou) {
  struct Row { bool ap; const char* iou; const char* area; int max_dets; };
  // pycocotools' COCOeval.summarize() rows, in stats order.
  static const Row kRows[12] = {
      {true, "0.50:0.95", "all", 100},    {true, "0.50", "all", 100},
      {true, "0.75", "all", 100},         {true, "0.50:0.95", "small", 100},
      {true, "0.50:0.95", "medium", 100}, {true, "0.50:0.95", "large", 100},
      {false, "0.50:0.95", "all", 1},     {false, "0.50:0.95", "all", 10},
      {false, "0.50:0.95", "all", 100},   {false, "0.50:0.95", "small", 100},
      {false, "0.50:0.95", "medium", 100}, {false, "0.50:0.95", "large", 100}};
  std::string out;
  char line[256];
  for (int i = 0; i < 12; ++i) {
    const Row& w = kRows[i];
    std::snprintf(line, sizeof line, " %-18s %s @[ IoU=%-9s | area=%6s | maxDets=%3d ] = %0.3f\n",
                  w.ap ? "Average Precision" : "Average Recall", w.ap ? "(AP)" : "(AR)", w.iou,
                  w.area, w.max_dets, r.stats[size_t(i)]);
    out += line;
  }
  std::snprintf(line, sizeof line, "\n Per-category %s AP @[ IoU=0.50:0.95 | area=   all | maxDets=100 ]\n",
                iou == IouType::Bbox ? "bbox" : "segm");
  out += line;
  for (size_t k = 0; k < r.per_category_ap.size(); ++k) {
    const auto& [id, ap] = r.per_category_ap[k];
    const std::string name = k < gt.categories.size() ? gt.categories[k].name : std::string();
    if (ap > -1)
      std::snprintf(line, sizeof line, " %8lld  %-24s %0.3f\n", (long long)id, name.c_str(), ap);
    else
      std::snprintf(line, sizeof line, " %8lld  %-24s -1.000 (no ground truth)\n", (long long)id,
                    name.c_str());
    out += line;
  }
  return out;
}

std::string coco_result_json(const CocoEvalResult& r) {
  std::string out = "{\"stats\": [";
  char num[64];
  for (size_t i = 0; i < r.stats.size(); ++i) {
    std::snprintf(num, sizeof num, "%s%.17g", i ? ", " : "", r.stats[i]);
    out += num;
  }
  out += "], \"per_category_ap\": {";
  for (size_t k = 0; k < r.per_category_ap.size(); ++k) {
    std::snprintf(num, sizeof num, "%s\"%lld\": %.17g", k ? ", " : "",
                  (long long)r.per_category_ap[k].first, r.per_category_ap[k].second);
    out += num;
  }
  out += "}}\n";
  return out;
}

}  // namespace mabdet
