// Chart geometry and axis ranges (see chart_layout.h).
#include "train/chart_layout.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "mabdet/error.h"

namespace mabdet::chart {
namespace {
constexpr int kMinSize = 200, kMaxSize = 4000;
// Values beyond this are clamped before they size an axis: a diverged loss of 1e30 still shows as
// off the top, and the tick arithmetic stays finite.
constexpr double kValueLimit = 1e12;

// 1, 2 or 5 times a power of ten, the smallest at least span / target.
double nice_step(double span, int target) {
  const double raw = span / std::max(target, 1);
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  const double f = raw / mag;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * mag;
}

double clamp_value(double v) { return std::clamp(v, -kValueLimit, kValueLimit); }

// The 98th percentile (nearest rank below) of v, which it reorders.
double percentile98(std::vector<double>& v) {
  const size_t k = size_t(0.98 * double(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + std::ptrdiff_t(k), v.end());
  return v[k];
}

int max_label_width(const Axis& a, int scale) {
  int w = 0;
  for (double t : a.ticks()) w = std::max(w, text_width(y_label(t, a.step), scale));
  return w;
}

Axis metric_axis(int target_ticks) {
  Axis a;
  a.lo = 0;
  a.hi = 100;
  a.step = std::max(10.0, nice_step(100, target_ticks));  // 10, 20 or 50: all divide 100
  return a;
}

Axis iteration_axis(const ChartSpec& spec, int plot_w, int scale) {
  double hi = double(std::max<int64_t>(spec.max_iteration, 1));
  for (const auto* group : {&spec.losses, &spec.metrics})
    for (const ChartSeries& s : *group)
      for (const auto& [it, v] : s.points)
        if (std::isfinite(it) && std::isfinite(v)) hi = std::max(hi, std::min(it, kValueLimit));
  Axis a;
  a.hi = hi;
  // Room for the widest label and as much again between labels.
  const int label_w = text_width(x_label(hi, hi), scale) * 2 + 8 * scale;
  a.step = std::max(1.0, nice_step(hi, std::clamp(plot_w / label_w, 1, 10)));
  return a;
}
}  // namespace

std::vector<double> Axis::ticks() const {
  std::vector<double> t;
  const double first = std::ceil(lo / step - 1e-9), last = std::floor(hi / step + 1e-9);
  for (double k = first; k <= last && t.size() < 1000; k += 1) t.push_back(k * step);
  return t;
}

Axis loss_axis(const std::vector<ChartSeries>& losses, int target_ticks) {
  // Each series' first tenth of points is left out of the range: the loss of the first
  // iterations is often several times the rest and would flatten everything after it.
  std::vector<double> later;
  for (const ChartSeries& s : losses) {
    std::vector<double> finite;
    for (const auto& [it, v] : s.points)
      if (std::isfinite(it) && std::isfinite(v)) finite.push_back(clamp_value(v));
    later.insert(later.end(), finite.begin() + std::ptrdiff_t(finite.size() / 10), finite.end());
  }
  Axis a;
  if (later.empty()) {  // axes only: 0..1
    a.step = nice_step(1, target_ticks);
    return a;
  }
  const double lo = std::min(0.0, *std::min_element(later.begin(), later.end()));
  // The top is the highest later value that is not an outlier, one more than 1.5 times as far
  // above lo as the 98th percentile; outliers leave the plot through its top edge.
  const double limit = lo + 1.5 * (percentile98(later) - lo);
  double top = lo;
  for (double v : later)
    if (v <= limit) top = std::max(top, v);
  if (!(top > lo)) top = lo + 1;
  top = lo + 1.05 * (top - lo);  // headroom, so the highest value is not drawn on the frame
  a.step = nice_step(top - lo, target_ticks);
  a.lo = std::floor(lo / a.step) * a.step;
  a.hi = std::ceil(top / a.step - 1e-9) * a.step;
  return a;
}

std::string x_label(double v, double step) {
  char buf[32];
  const long long n = std::llround(v);
  // Thousands as "k" when every tick is a whole thousand, so long schedules keep short labels.
  if (n != 0 && std::fmod(step, 1000) == 0) std::snprintf(buf, sizeof buf, "%lldk", n / 1000);
  else std::snprintf(buf, sizeof buf, "%lld", n);
  return buf;
}

std::string y_label(double v, double step) {
  const int decimals = std::clamp(int(-std::floor(std::log10(step) + 1e-9)), 0, 12);
  if (std::fabs(v) < step / 2) v = 0;  // no "-0.00" from rounding
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

std::string legend_text(const ChartSeries& s, bool metric) {
  const double* last = nullptr;
  for (const auto& p : s.points)
    if (std::isfinite(p.first) && std::isfinite(p.second)) last = &p.second;
  char buf[40] = "-";
  if (last) std::snprintf(buf, sizeof buf, metric ? "%.1f" : "%.4g", *last);
  return s.name + "  " + buf;
}

Rgb series_colour(size_t i) {
  static const Rgb palette[] = {{214, 40, 40},  {30, 100, 200}, {40, 160, 60},  {235, 130, 0},  {140, 70, 180},
                                {0, 165, 175},  {205, 60, 150}, {125, 85, 40},  {160, 160, 0}, {0, 55, 120}};
  return palette[i % (sizeof palette / sizeof palette[0])];
}

Layout layout_chart(const ChartSpec& spec) {
  const int w = spec.width, h = spec.height;
  if (w < kMinSize || w > kMaxSize || h < kMinSize || h > kMaxSize)
    fail("chart size ", w, "x", h, " is outside ", kMinSize, "..", kMaxSize, " pixels on a side");
  Layout L;
  L.text_scale = std::max(1, std::min(w, h) / 350);
  L.title_scale = L.text_scale + (L.text_scale + 1) / 2;
  // A long title on a small chart gets smaller text, down to the labels' size, before it is cut.
  while (L.title_scale > L.text_scale && text_width(spec.title, L.title_scale) > w - 12 * L.text_scale)
    --L.title_scale;
  L.line_width = L.text_scale;
  L.frame = std::max(1, L.text_scale / 2);
  L.pad = 6 * L.text_scale;
  const int s = L.text_scale, pad = L.pad, th = text_height(s);
  L.has_metrics = !spec.metrics.empty();

  const int top = pad + text_height(L.title_scale) + pad;
  const int x_labels = pad / 2 + th + pad;             // tick labels below a panel
  const int bottom = x_labels + th + pad;              // and "iteration" under the last one
  const int avail = h - top - bottom - (L.has_metrics ? x_labels : 0);
  const int loss_h = L.has_metrics ? avail * 62 / 100 : avail;
  const int metric_h = avail - loss_h;
  const int y_target = std::max(2, loss_h / (3 * th));

  L.losses.y = loss_axis(spec.losses, y_target);
  if (L.has_metrics) L.metrics.y = metric_axis(std::max(2, metric_h / (3 * th)));

  int legend_w = 0;
  for (const ChartSeries& c : spec.losses) legend_w = std::max(legend_w, text_width(legend_text(c, false), s));
  for (const ChartSeries& c : spec.metrics) legend_w = std::max(legend_w, text_width(legend_text(c, true), s));
  if (legend_w > 0) legend_w += 16 * s + pad + 2 * pad;  // swatch, gaps
  legend_w = std::min(legend_w, w / 3);
  int label_w = max_label_width(L.losses.y, s);
  if (L.has_metrics) label_w = std::max(label_w, max_label_width(L.metrics.y, s));
  const int left = pad + label_w + 3 * s + pad / 2;
  const int right = w - 1 - pad - legend_w;

  L.losses.plot = {left, top, right, top + loss_h - 1};
  L.losses.x = iteration_axis(spec, right - left, s);
  L.losses.legend_x = right + pad;
  if (L.has_metrics) {
    const int y0 = L.losses.plot.y1 + 1 + x_labels;
    L.metrics.plot = {left, y0, right, y0 + metric_h - 1};
    L.metrics.x = L.losses.x;
    L.metrics.legend_x = L.losses.legend_x;
  }
  for (Panel* p : {&L.losses, &L.metrics})
    p->data = {p->plot.x0 + L.frame, p->plot.y0 + L.frame, p->plot.x1 - L.frame, p->plot.y1 - L.frame};
  MABDET_ASSERT(right - left >= 20 && loss_h >= 20 && (!L.has_metrics || metric_h >= 20), "chart ", w, "x", h);
  return L;
}

}  // namespace mabdet::chart
