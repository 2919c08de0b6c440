// Where the training chart's parts go and what its axes span, apart from drawing them, so that
// tests can find the plot areas and axis ranges the renderer used.
#pragma once
#include <string>
#include <vector>

#include "mabdet/chart.h"
#include "train/chart_canvas.h"

namespace mabdet::chart {

struct Axis {
  double lo = 0, hi = 1;   // the data values at the panel's edges
  double step = 1;         // between ticks; ticks are the multiples of step in lo..hi
  std::vector<double> ticks() const;
};

struct Panel {
  Rect plot;               // the frame's outer pixels
  Rect data;               // inside the frame: the axis ranges map onto it, lines are clipped to it
  Axis x, y;
  int legend_x = 0;        // left edge of the legend column beside it
};

struct Layout {
  int text_scale = 1, title_scale = 2, line_width = 1, frame = 1, pad = 8;
  Panel losses;
  bool has_metrics = false;
  Panel metrics;
};

// Fails for a width or height outside 200..4000.
Layout layout_chart(const ChartSpec& spec);

// The y range of the loss panel: from min(0, lowest value) to a top that a spike in the first
// iterations, or a lone outlier later, cannot stretch (see docs/training-output.md).
Axis loss_axis(const std::vector<ChartSeries>& losses, int target_ticks);

// Tick label text: x in iterations ("0", "500", "20k"), y with as many decimals as the step needs.
std::string x_label(double v, double step);
std::string y_label(double v, double step);

// A legend entry: the name and the last finite value ("loss_cls  0.4172", "bbox AP  37.2"),
// "-" for a series with none yet.
std::string legend_text(const ChartSeries& s, bool metric);

// The colour of series i (cycling through a fixed palette none of which is white, black or grey).
Rgb series_colour(size_t i);

}  // namespace mabdet::chart
