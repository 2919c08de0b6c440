// The training chart: layout from chart_layout, drawing on chart_canvas, PNG through stb_image_write.
#include "mabdet/chart.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>

#include <stb/stb_image_write.h>

#include "mabdet/error.h"
#include "train/chart_layout.h"

namespace mabdet {
namespace {
using namespace chart;

const Rgb kWhite{255, 255, 255}, kFrame{0, 0, 0}, kGrid{228, 228, 228}, kText{35, 35, 35};

// Pixel coordinates of a data point; values far outside the axis are pulled in to a finite
// distance so that clipping arithmetic never meets an infinity.
struct Mapper {
  Rect r;
  Axis x, y;
  double px(double it) const {
    const double t = std::clamp((it - x.lo) / (x.hi - x.lo), -1e6, 1e6);
    return r.x0 + t * (r.x1 - r.x0);
  }
  double py(double v) const {
    const double t = std::clamp((v - y.lo) / (y.hi - y.lo), -1e6, 1e6);
    return r.y1 - t * (r.y1 - r.y0);
  }
};

void draw_axes(Canvas& c, const Layout& L, const Panel& p) {
  const Mapper m{p.data, p.x, p.y};
  const int s = L.text_scale, tick = 3 * s, f = L.frame;
  for (double t : p.y.ticks()) {
    const int y = int(std::lround(m.py(t)));
    c.fill({m.r.x0, y, m.r.x1, y}, kGrid);
    c.fill({p.plot.x0 - tick, y, p.plot.x0 - 1, y + f - 1}, kFrame);
    const std::string label = y_label(t, p.y.step);
    c.text(p.plot.x0 - tick - L.pad / 2 - text_width(label, s), y - 7 * s / 2, label, s, kText);
  }
  for (double t : p.x.ticks()) {
    const int x = int(std::lround(m.px(t)));
    c.fill({x, m.r.y0, x, m.r.y1}, kGrid);
    c.fill({x, p.plot.y1 + 1, x + f - 1, p.plot.y1 + tick}, kFrame);
    const std::string label = x_label(t, p.x.step);
    const int w = text_width(label, s);
    c.text(std::clamp(x - w / 2, 0, c.image().w - w), p.plot.y1 + tick + L.pad / 2, label, s, kText);
  }
}

void draw_frame(Canvas& c, const Layout& L, const Panel& p) {
  const Rect r = p.plot;
  const int f = L.frame;
  c.fill({r.x0, r.y0, r.x1, r.y0 + f - 1}, kFrame);
  c.fill({r.x0, r.y1 - f + 1, r.x1, r.y1}, kFrame);
  c.fill({r.x0, r.y0, r.x0 + f - 1, r.y1}, kFrame);
  c.fill({r.x1 - f + 1, r.y0, r.x1, r.y1}, kFrame);
}

void draw_series(Canvas& c, const Layout& L, const Panel& p, const ChartSeries& s, Rgb colour, bool metric) {
  const Mapper m{p.data, p.x, p.y};
  std::vector<std::pair<double, double>> pts;
  for (const auto& [it, v] : s.points)
    if (std::isfinite(it) && std::isfinite(v)) pts.push_back({m.px(it), m.py(v)});
  for (size_t i = 1; i < pts.size(); ++i)
    c.line(pts[i - 1].first, pts[i - 1].second, pts[i].first, pts[i].second, L.line_width, colour, m.r);
  // Metrics are measured a few times a run, so each measurement gets a marker; a lone loss point
  // gets one too, having no line to show it. Markers sit at the edge when the value is past it.
  if (!metric && pts.size() != 1) return;
  const int half = L.line_width + 1;
  for (const auto& [x, y] : pts) {
    if (x < m.r.x0 || x > m.r.x1) continue;
    const int cx = int(std::lround(x)), cy = int(std::lround(std::clamp(y, double(m.r.y0), double(m.r.y1))));
    c.fill({std::max(cx - half, m.r.x0), std::max(cy - half, m.r.y0), std::min(cx + half, m.r.x1),
            std::min(cy + half, m.r.y1)},
           colour);
  }
}

void draw_legend(Canvas& c, const Layout& L, const Panel& p, const std::vector<ChartSeries>& series, bool metric) {
  const int s = L.text_scale, row = text_height(s) + L.pad / 2, swatch = 16 * s;
  int y = p.plot.y0 + L.pad / 2;
  for (size_t i = 0; i < series.size(); ++i, y += row) {
    const int mid = y + 7 * s / 2;
    c.fill({p.legend_x, mid - s, p.legend_x + swatch - 1, mid + s}, series_colour(i));
    c.text(p.legend_x + swatch + L.pad / 2, y, legend_text(series[i], metric), s, kText);
  }
}

void draw_panel(Canvas& c, const Layout& L, const Panel& p, const std::vector<ChartSeries>& series, bool metric) {
  draw_axes(c, L, p);
  for (size_t i = 0; i < series.size(); ++i) draw_series(c, L, p, series[i], series_colour(i), metric);
  draw_frame(c, L, p);
  draw_legend(c, L, p, series, metric);
}

void append_bytes(void* context, void* data, int size) {
  auto* out = static_cast<std::vector<uint8_t>*>(context);
  out->insert(out->end(), static_cast<uint8_t*>(data), static_cast<uint8_t*>(data) + size);
}
}  // namespace

Image render_chart(const ChartSpec& spec) {
  const Layout L = layout_chart(spec);
  Canvas c(spec.width, spec.height, kWhite);
  const int tw = text_width(spec.title, L.title_scale);
  c.text(std::max(L.pad, (spec.width - tw) / 2), L.pad, spec.title, L.title_scale, kText);
  draw_panel(c, L, L.losses, spec.losses, false);
  if (L.has_metrics) draw_panel(c, L, L.metrics, spec.metrics, true);
  const Panel& last = L.has_metrics ? L.metrics : L.losses;
  const int s = L.text_scale;
  const std::string xname = "iteration";
  c.text((last.plot.x0 + last.plot.x1 - text_width(xname, s)) / 2,
         last.plot.y1 + 3 * s + L.pad / 2 + text_height(s) + L.pad / 2, xname, s, kText);
  return c.take();
}

void write_chart_png(const std::string& path, const ChartSpec& spec) {
  Image img;
  try {
    img = render_chart(spec);
  } catch (const Error& e) {
    fail(path, ": ", e.what());
  }
  std::vector<uint8_t> png;
  if (!stbi_write_png_to_func(append_bytes, &png, img.w, img.h, 3, img.pix.data(), img.w * 3))
    fail(path, ": cannot encode the chart as PNG");
  // The chart is redrawn many times a run and is worth less than a checkpoint: no fsync, the
  // rename alone keeps a reader from ever seeing a partial file.
  const std::string tmp = cat(path, ".tmp.", getpid());
  FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) fail(path, ": cannot write the chart (", std::strerror(errno), ")");
  const bool wrote = std::fwrite(png.data(), 1, png.size(), f) == png.size();
  const int write_errno = errno;
  if (std::fclose(f) != 0 || !wrote) {
    const int e = wrote ? errno : write_errno;
    std::remove(tmp.c_str());
    fail(path, ": cannot write the chart (", std::strerror(e), ")");
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int e = errno;
    std::remove(tmp.c_str());
    fail(path, ": cannot replace the chart (", std::strerror(e), ")");
  }
}

}  // namespace mabdet
