// Drawing on an RGB Image for the training chart: rectangles, clipped thick lines, bitmap text.
// No anti-aliasing, so each series keeps its exact colour (tests look for it pixel by pixel).
#pragma once
#include <cstdint>
#include <string>
#include <utility>

#include "mabdet/data/image.h"

namespace mabdet::chart {

struct Rgb {
  uint8_t r, g, b;
  bool operator==(const Rgb& o) const { return r == o.r && g == o.g && b == o.b; }
};

// Inclusive pixel rectangle.
struct Rect {
  int x0, y0, x1, y1;
};

class Canvas {
 public:
  Canvas(int w, int h, Rgb background);
  void fill(Rect r, Rgb c);  // clipped to the image
  // A line `thickness` pixels wide from (ax, ay) to (bx, by), the part outside `clip` cut off
  // (so a value above the axis range leaves the plot through its top edge).
  void line(double ax, double ay, double bx, double by, int thickness, Rgb c, Rect clip);
  // ASCII text with its top-left corner at (x, y), each font pixel `scale` pixels wide.
  void text(int x, int y, const std::string& s, int scale, Rgb c);
  const Image& image() const { return img_; }
  Image take() { return std::move(img_); }  // the finished picture; the canvas is empty after

 private:
  Image img_;
};

// Text extent in pixels at `scale`, for laying labels out before drawing them.
int text_width(const std::string& s, int scale);
int text_height(int scale);  // one line, descenders included

}  // namespace mabdet::chart
