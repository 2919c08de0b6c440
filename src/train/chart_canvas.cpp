// Canvas primitives for the chart (see chart_canvas.h). Text comes from stb_easy_font, which
// describes glyphs as axis-aligned quads on a unit grid; they are filled here as scaled rectangles.
#include "train/chart_canvas.h"

#include "mabdet/error.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"  // the header's helpers are all static
#include <stb/stb_easy_font.h>
#pragma GCC diagnostic pop

namespace mabdet::chart {
namespace {
// stb_easy_font indexes its glyph table with (c - 32) and (c - 31): anything outside printable
// ASCII would read outside it, so it is shown as '?'.
std::string printable(const std::string& s) {
  std::string out = s;
  for (char& c : out)
    if (c < 32 || c > 126) c = '?';
  return out;
}

// Liang-Barsky: shrinks the segment to the part inside the box; false when none is.
bool clip_segment(double& ax, double& ay, double& bx, double& by, double x0, double y0, double x1, double y1) {
  const double dx = bx - ax, dy = by - ay;
  double t0 = 0, t1 = 1;
  const double p[4] = {-dx, dx, -dy, dy};
  const double q[4] = {ax - x0, x1 - ax, ay - y0, y1 - ay};
  for (int i = 0; i < 4; ++i) {
    if (p[i] == 0) {
      if (q[i] < 0) return false;
      continue;
    }
    const double t = q[i] / p[i];
    if (p[i] < 0) t0 = std::max(t0, t);
    else t1 = std::min(t1, t);
    if (t0 > t1) return false;
  }
  const double nax = ax + t0 * dx, nay = ay + t0 * dy;
  bx = ax + t1 * dx;
  by = ay + t1 * dy;
  ax = nax;
  ay = nay;
  return true;
}
}  // namespace

Canvas::Canvas(int w, int h, Rgb bg) {
  img_.w = w;
  img_.h = h;
  img_.pix.resize(size_t(w) * h * 3);
  for (size_t i = 0; i < img_.pix.size(); i += 3) {
    img_.pix[i] = bg.r;
    img_.pix[i + 1] = bg.g;
    img_.pix[i + 2] = bg.b;
  }
}

void Canvas::fill(Rect r, Rgb c) {
  const int x0 = std::max(r.x0, 0), x1 = std::min(r.x1, img_.w - 1);
  const int y0 = std::max(r.y0, 0), y1 = std::min(r.y1, img_.h - 1);
  for (int y = y0; y <= y1; ++y) {
    uint8_t* p = img_.row(y);
    for (int x = x0; x <= x1; ++x) {
      p[3 * x] = c.r;
      p[3 * x + 1] = c.g;
      p[3 * x + 2] = c.b;
    }
  }
}

void Canvas::line(double ax, double ay, double bx, double by, int thickness, Rgb c, Rect clip) {
  if (!clip_segment(ax, ay, bx, by, clip.x0, clip.y0, clip.x1, clip.y1)) return;
  // Bresenham between the rounded ends, stamping a thickness x thickness square at each step;
  // the stamps are clipped too, so a thick line on the frame stays inside the plot.
  int x = int(std::lround(ax)), y = int(std::lround(ay));
  const int ex = int(std::lround(bx)), ey = int(std::lround(by));
  const int dx = std::abs(ex - x), dy = -std::abs(ey - y);
  const int sx = x < ex ? 1 : -1, sy = y < ey ? 1 : -1;
  const int lo = -(thickness - 1) / 2, hi = thickness / 2;
  int err = dx + dy;
  for (;;) {
    fill({std::max(x + lo, clip.x0), std::max(y + lo, clip.y0), std::min(x + hi, clip.x1), std::min(y + hi, clip.y1)}, c);
    if (x == ex && y == ey) break;
    const int e2 = 2 * err;
    if (e2 >= dy) {
      err += dy;
      x += sx;
    }
    if (e2 <= dx) {
      err += dx;
      y += sy;
    }
  }
}

void Canvas::text(int x, int y, const std::string& s, int scale, Rgb c) {
  // One character a call, into a buffer with room for 16 quads of 64 bytes (four vertices: x, y, z
  // floats and an RGBA colour); the largest glyph ('X') has 11. stb_easy_font drops the quads a
  // buffer cannot hold without saying so, which a whole string in one call once did to a "k".
  char buf[16 * 64];
  char one[2] = {0, 0};
  for (char ch : printable(s)) {
    one[0] = ch;
    const int quads = stb_easy_font_print(0, 0, one, nullptr, buf, int(sizeof buf));
    MABDET_ASSERT(quads < 16, "glyph '", ch, "' may have been cut short");
    for (int q = 0; q < quads; ++q) {
      float v0[2], v2[2];  // the quad's first and third corners: top-left and bottom-right
      std::memcpy(v0, buf + q * 64, sizeof v0);
      std::memcpy(v2, buf + q * 64 + 32, sizeof v2);
      const int qx0 = int(std::lround(v0[0])), qy0 = int(std::lround(v0[1]));
      const int qx1 = int(std::lround(v2[0])), qy1 = int(std::lround(v2[1]));
      fill({x + qx0 * scale, y + qy0 * scale, x + qx1 * scale - 1, y + qy1 * scale - 1}, c);
    }
    x += text_width(std::string(1, ch), scale);
  }
}

int text_width(const std::string& s, int scale) {
  std::string t = printable(s);
  return stb_easy_font_width(t.data()) * scale;
}

int text_height(int scale) { return 10 * scale; }

}  // namespace mabdet::chart
