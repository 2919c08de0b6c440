// The OPENCV=1 drawing backend. The canvas is the image's own RGB buffer wrapped in a cv::Mat, so
// colours are passed in RGB order (OpenCV's drawing does not care which channel is which).
#ifdef MABDET_OPENCV
#include <algorithm>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "detect/draw_backend.h"
#include "mabdet/detect/draw.h"

namespace mabdet::detect::backend {
namespace {

cv::Mat canvas(Image& img) { return cv::Mat(img.h, img.w, CV_8UC3, img.pix.data()); }
cv::Scalar scalar(Rgb c) { return cv::Scalar(c[0], c[1], c[2]); }

}  // namespace

void mask(Image& img, const std::vector<uint8_t>& mask, Rgb c) {
  cv::Mat pic = canvas(img);
  const cv::Mat m(img.h, img.w, CV_8UC1, const_cast<uint8_t*>(mask.data()));
  const cv::Rect r = cv::boundingRect(m);  // of the nonzero pixels
  if (r.empty()) return;
  cv::Mat roi = pic(r), tinted;
  cv::addWeighted(roi, 1.0 - kMaskAlpha, cv::Mat(roi.size(), CV_8UC3, scalar(c)), kMaskAlpha, 0, tinted);
  tinted.copyTo(roi, m(r));
  std::vector<std::vector<cv::Point>> contours;
  cv::findContours(m, contours, cv::RETR_LIST, cv::CHAIN_APPROX_SIMPLE);  // holes outlined too
  cv::drawContours(pic, contours, -1, scalar(c), 1, cv::LINE_8);
}

void box(Image& img, PixelBox b, int t, Rgb c) {
  cv::Mat pic = canvas(img);
  cv::rectangle(pic, cv::Point(b.x1, b.y1), cv::Point(b.x2, b.y2), scalar(c), t, cv::LINE_8);
}

void tag(Image& img, PixelBox b, const std::string& text, Rgb c) {
  cv::Mat pic = canvas(img);
  // Readable on a 320-pixel image, not oversized on a 4000-pixel one.
  const double scale = std::clamp(std::max(img.w, img.h) / 1000.0, 0.35, 1.2);
  const int font = cv::FONT_HERSHEY_SIMPLEX, weight = scale > 0.8 ? 2 : 1, pad = 2;
  int baseline = 0;
  const cv::Size ts = cv::getTextSize(text, font, scale, weight, &baseline);
  const int tw = ts.width + 2 * pad, th = ts.height + baseline + 2 * pad;
  // Above the box when there is room, else just inside its top edge; shifted left to stay inside.
  int x = std::max(0, std::min(b.x1, img.w - tw));
  int y = b.y1 - th >= 0 ? b.y1 - th : std::max(b.y1, 0);
  cv::rectangle(pic, cv::Rect(x, y, tw, th), scalar(c), cv::FILLED);
  // Dark text on light colours, white on dark (ITU-R BT.601 luma).
  const double luma = 0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2];
  const cv::Scalar ink = luma > 140 ? cv::Scalar(0, 0, 0) : cv::Scalar(255, 255, 255);
  cv::putText(pic, text, cv::Point(x + pad, y + pad + ts.height), font, scale, ink, weight, cv::LINE_AA);
}

}  // namespace mabdet::detect::backend
#endif
