// mabdet cocoeval GT.json RESULTS.json --iou bbox|segm [--json OUT.json]
#include <cstdio>

#include "cli/commands.h"
#include "mabdet/coco_eval.h"
#include "mabdet/error.h"

namespace mabdet::cli {

int cocoeval(const Args& a) {
  std::vector<std::string> files;
  std::string iou_name, json_out;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i] == "--iou" || a[i] == "--json") {
      if (i + 1 >= a.size()) fail("cocoeval: ", a[i], " needs a value");
      std::string& dst = a[i] == "--iou" ? iou_name : json_out;
      dst = a[++i];
    } else if (a[i].size() > 1 && a[i][0] == '-') {
      fail("cocoeval: unknown option '", a[i], "'");
    } else {
      files.push_back(a[i]);
    }
  }
  if (files.size() != 2 || iou_name.empty())
    fail("usage: mabdet cocoeval GT.json RESULTS.json --iou bbox|segm [--json OUT.json]");
  const IouType iou = parse_iou_type(iou_name);
  const CocoGroundTruth gt = CocoGroundTruth::load(files[0]);
  const CocoEvalResult r = coco_evaluate(gt, CocoResults::load(files[1], gt, iou), iou);
  for (const std::string& w : r.warnings) std::fprintf(stderr, "mabdet: warning: %s\n", w.c_str());
  std::fputs(coco_summary_table(r, gt, iou).c_str(), stdout);
  if (!json_out.empty()) {
    FILE* f = std::fopen(json_out.c_str(), "w");
    if (!f) fail("cannot write ", json_out);
    const std::string s = coco_result_json(r);
    const bool ok = std::fwrite(s.data(), 1, s.size(), f) == s.size();
    if (std::fclose(f) != 0 || !ok) fail("cannot write ", json_out);
  }
  return 0;
}

}  // namespace mabdet::cli
