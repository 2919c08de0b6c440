// The training chart: loss terms over iterations (top panel) and COCO metrics (bottom panel),
// rendered by mabdet itself so that every build writes one, whatever optional libraries it has.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "mabdet/data/image.h"

namespace mabdet {

struct ChartSeries {
  std::string name;                               // legend text, e.g. "loss_rpn_cls"
  std::vector<std::pair<double, double>> points;  // (iteration, value), iterations ascending
};

struct ChartSpec {
  std::string title;                // e.g. "mask_rcnn_small_mabn.cfg  seed 1"
  int64_t max_iteration = 0;        // x axis runs 0..max_iteration (the schedule's length)
  std::vector<ChartSeries> losses;  // top panel; one colour each, legend
  std::vector<ChartSeries> metrics; // bottom panel (0..100 scale, e.g. "bbox AP"); omitted when empty
  int width = 1000, height = 700;   // 200..4000 each
};

// Renders the chart and writes it atomically (temporary file in the same folder + rename), so a
// reader never sees half a PNG. Throws mabdet::Error naming the path when it cannot write.
void write_chart_png(const std::string& path, const ChartSpec& spec);

// The rendered RGB image, for tests. Throws mabdet::Error for a size outside 200..4000.
Image render_chart(const ChartSpec& spec);

}  // namespace mabdet
