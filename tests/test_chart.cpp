// The training chart: series drawn in their colours where their values map, a first-iterations
// spike and a late outlier clipped instead of flattening the curve, axes-only charts from empty or
// non-finite data, and the PNG written whole (decoded pixels equal, no temporary file left).
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <limits>

#include "mabdet/chart.h"
#include "mabdet/data/image.h"
#include "test_util.h"
#include "train/chart_layout.h"

using namespace mabdet;
using namespace mabdet::chart;
using mabdet::test::error_of;
using mabdet::test::TempDir;

namespace {
Rgb pixel(const Image& img, int x, int y) {
  const uint8_t* p = img.row(y) + 3 * x;
  return {p[0], p[1], p[2]};
}

int count(const Image& img, Rgb c, Rect r) {
  int n = 0;
  for (int y = std::max(r.y0, 0); y <= std::min(r.y1, img.h - 1); ++y)
    for (int x = std::max(r.x0, 0); x <= std::min(r.x1, img.w - 1); ++x) n += pixel(img, x, y) == c;
  return n;
}

int area(Rect r) { return (r.x1 - r.x0 + 1) * (r.y1 - r.y0 + 1); }

// Whether colour c is within `r` pixels of where (it, v) maps in panel p.
bool drawn_at(const Image& img, const Panel& p, double it, double v, Rgb c, int r = 2) {
  const double x = p.data.x0 + (it - p.x.lo) / (p.x.hi - p.x.lo) * (p.data.x1 - p.data.x0);
  const double y = p.data.y1 - (v - p.y.lo) / (p.y.hi - p.y.lo) * (p.data.y1 - p.data.y0);
  const int cx = int(std::lround(x)), cy = int(std::lround(y));
  return count(img, c, {cx - r, cy - r, cx + r, cy + r}) > 0;
}

ChartSeries series(const std::string& name, int n, double (*f)(int)) {
  ChartSeries s{name, {}};
  for (int i = 0; i < n; ++i) s.points.push_back({double(i * 10), f(i)});
  return s;
}

ChartSpec three_losses_and_ap() {
  ChartSpec spec;
  spec.title = "mask_rcnn_small_mabn.cfg  seed 1";
  spec.max_iteration = 1000;
  spec.losses.push_back(series("loss_a", 101, [](int i) { return 2.0 - i / 100.0; }));
  spec.losses.push_back(series("loss_b", 101, [](int) { return 0.5; }));
  spec.losses.push_back(series("loss_c", 101, [](int i) { return 0.1 + 0.001 * i; }));
  spec.metrics.push_back({"bbox AP", {{250, 10}, {500, 20}, {1000, 35}}});
  return spec;
}

const Rgb kWhite{255, 255, 255};
const Rgb kBlack{0, 0, 0};
}  // namespace

TEST_CASE("chart: size, each series in its colour where its values map, legend and title") {
  const ChartSpec spec = three_losses_and_ap();
  const Image img = render_chart(spec);
  CHECK(img.w == 1000);
  CHECK(img.h == 700);
  CHECK(img.pix.size() == size_t(1000) * 700 * 3);
  const Layout L = layout_chart(spec);
  REQUIRE(L.has_metrics);
  CHECK(L.losses.plot.y1 < L.metrics.plot.y0);
  CHECK(L.losses.y.lo == 0);
  CHECK(L.losses.y.hi >= 1.9);  // the first tenth of the points (up to 2.0) may be clipped
  CHECK(L.losses.y.hi <= 2.5);
  CHECK(L.losses.x.hi == 1000);
  for (size_t i = 0; i < 3; ++i) {
    INFO("series ", i);
    CHECK(count(img, series_colour(i), L.losses.data) > 200);
    CHECK(count(img, series_colour(i), {L.losses.legend_x, L.losses.plot.y0, img.w - 1, L.losses.plot.y1}) > 0);
  }
  CHECK(drawn_at(img, L.losses, 100, 1.9, series_colour(0)));
  CHECK(drawn_at(img, L.losses, 500, 1.5, series_colour(0)));
  CHECK(drawn_at(img, L.losses, 730, 0.5, series_colour(1)));
  CHECK(drawn_at(img, L.losses, 1000, 0.2, series_colour(2)));
  CHECK_FALSE(drawn_at(img, L.losses, 500, 1.0, series_colour(0)));
  // Metrics: on their own 0..100 axis, with a marker at each measurement.
  CHECK(L.metrics.y.lo == 0);
  CHECK(L.metrics.y.hi == 100);
  CHECK(drawn_at(img, L.metrics, 250, 10, series_colour(0)));
  CHECK(drawn_at(img, L.metrics, 1000, 35, series_colour(0)));
  CHECK_FALSE(drawn_at(img, L.metrics, 250, 50, series_colour(0)));
  // The frame, the title band above the plots, tick labels left of them.
  CHECK(pixel(img, L.losses.plot.x0, L.losses.plot.y0) == kBlack);
  CHECK(pixel(img, L.metrics.plot.x1, L.metrics.plot.y1) == kBlack);
  const Rect title{0, 0, img.w - 1, L.losses.plot.y0 - 8}, y_labels{0, L.losses.plot.y0, L.losses.plot.x0 - 8, L.losses.plot.y1};
  CHECK(count(img, kWhite, title) < area(title) - 100);
  CHECK(count(img, kWhite, y_labels) < area(y_labels) - 50);
}

TEST_CASE("chart: a first-iterations spike and a late outlier are clipped at the top edge") {
  ChartSpec spec;
  spec.title = "spike";
  spec.max_iteration = 10000;
  spec.losses.push_back(series("total", 1000, [](int i) { return i == 0 ? 500.0 : 1.0 + std::exp(-i / 300.0); }));
  spec.losses.push_back(series("outlier", 1000, [](int i) { return i == 600 ? 1e6 : 0.3; }));
  const Layout L = layout_chart(spec);
  CHECK(L.losses.y.hi >= 1.0 + std::exp(-100 / 300.0));  // the curve after its first tenth fits
  CHECK(L.losses.y.hi <= 2.5);  // and neither 500 nor 1e6 stretched the axis
  const Image img = render_chart(spec);
  const Rect top_row{L.losses.data.x0, L.losses.data.y0, L.losses.data.x1, L.losses.data.y0};
  const Rect above{L.losses.plot.x0, 0, L.losses.plot.x1, L.losses.plot.y0 - 1};
  for (size_t i = 0; i < 2; ++i) {
    INFO("series ", i);
    CHECK(count(img, series_colour(i), top_row) > 0);  // the line leaves through the top edge
    CHECK(count(img, series_colour(i), above) == 0);   // and goes no further
  }
  CHECK(count(img, kBlack, {L.losses.plot.x0, L.losses.plot.y0, L.losses.plot.x1, L.losses.plot.y0}) > 0);
  // The detail below the clip: the curve's middle and end where they map, the outlier's neighbours.
  CHECK(drawn_at(img, L.losses, 3000, 1.0 + std::exp(-1.0), series_colour(0)));
  CHECK(drawn_at(img, L.losses, 9990, 1.0 + std::exp(-999 / 300.0), series_colour(0)));
  CHECK(drawn_at(img, L.losses, 3000, 0.3, series_colour(1)));
  const Rect title{0, 0, img.w - 1, L.losses.plot.y0 - 8};
  CHECK(count(img, kWhite, title) < area(title) - 20);  // the title is intact
}

TEST_CASE("chart: no series, empty series and non-finite values give a valid chart") {
  ChartSpec none;
  const Image img0 = render_chart(none);
  const Layout L0 = layout_chart(none);
  CHECK_FALSE(L0.has_metrics);
  CHECK(L0.losses.plot.y1 > img0.h * 3 / 4);  // no metrics panel: the loss panel takes the height
  CHECK(L0.losses.y.lo == 0);
  CHECK(L0.losses.y.hi == 1);
  CHECK(L0.losses.y.ticks().size() >= 3);  // 0..1 with ticks between, not just its ends
  CHECK(pixel(img0, L0.losses.plot.x0, L0.losses.plot.y1) == kBlack);
  CHECK(count(img0, kWhite, L0.losses.data) > L0.losses.data.x1 - L0.losses.data.x0);

  const double nan = std::numeric_limits<double>::quiet_NaN(), inf = std::numeric_limits<double>::infinity();
  ChartSpec odd;
  odd.max_iteration = 40;
  odd.losses.push_back({"empty", {}});
  odd.losses.push_back({"gappy", {{0, 1}, {10, nan}, {20, 1}, {30, inf}, {40, 1}}});
  odd.losses.push_back({"lone", {{20, 0.25}}});
  odd.metrics.push_back({"segm AP", {{nan, 5}, {20, -inf}}});
  const Image img = render_chart(odd);
  const Layout L = layout_chart(odd);
  CHECK(count(img, series_colour(0), L.losses.data) == 0);
  CHECK(drawn_at(img, L.losses, 10, 1, series_colour(1), 0));  // drawn across the skipped values
  CHECK(drawn_at(img, L.losses, 30, 1, series_colour(1), 0));
  CHECK(drawn_at(img, L.losses, 20, 0.25, series_colour(2), 0));  // a lone point gets a marker
  CHECK(count(img, series_colour(0), L.metrics.data) == 0);
  CHECK(legend_text(odd.losses[0], false) == "empty  -");
  CHECK(legend_text(odd.losses[1], false) == "gappy  1");
  CHECK(legend_text(odd.metrics[0], true) == "segm AP  -");
  CHECK(legend_text({"bbox AP", {{1, 37.25}, {2, 37.46}}}, true) == "bbox AP  37.5");
}

TEST_CASE("chart: axis labels and sizes") {
  CHECK(x_label(0, 20000) == "0");
  CHECK(x_label(40000, 20000) == "40k");
  CHECK(x_label(500, 500) == "500");
  CHECK(x_label(1500, 500) == "1500");
  CHECK(y_label(0.4, 0.2) == "0.4");
  CHECK(y_label(0.05, 0.05) == "0.05");
  CHECK(y_label(-1e-17, 0.1) == "0.0");
  CHECK(y_label(15, 5) == "15");
  CHECK(y_label(200, 100) == "200");
  for (int bad : {199, 4001, 0, -5}) {
    ChartSpec s;
    s.width = bad;
    CHECK(error_of([&] { render_chart(s); }).find("outside 200..4000") != std::string::npos);
    s.width = 1000;
    s.height = bad;
    CHECK(error_of([&] { render_chart(s); }).find("outside 200..4000") != std::string::npos);
  }
  for (auto [w, h] : {std::pair{200, 200}, {300, 220}, {4000, 4000}, {4000, 200}, {200, 4000}}) {
    ChartSpec s = three_losses_and_ap();
    s.width = w;
    s.height = h;
    const Image img = render_chart(s);
    CHECK(img.w == w);
    CHECK(img.h == h);
    const Layout L = layout_chart(s);
    CHECK(count(img, series_colour(1), L.losses.data) > 0);
    CHECK(text_width(s.title, L.title_scale) <= w);
  }
}

TEST_CASE("chart: write_chart_png replaces the file whole and names the path it cannot write") {
  TempDir tmp;
  const std::string path = tmp / "chart.png";
  ChartSpec spec = three_losses_and_ap();
  write_chart_png(path, spec);
  CHECK(decode_image(path).pix == render_chart(spec).pix);
  spec.losses[1].points.push_back({1000, 1.75});  // a redraw replaces the first file
  write_chart_png(path, spec);
  const Image again = decode_image(path);
  CHECK(again.pix == render_chart(spec).pix);
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(tmp.path)) names.push_back(e.path().filename().string());
  CHECK(names == std::vector<std::string>{"chart.png"});  // no .tmp left beside it

  const std::string missing = tmp / "no_such_dir/chart.png";
  const std::string err = error_of([&] { write_chart_png(missing, spec); });
  CHECK(err.find(missing) == 0);
  CHECK(err.find("No such file or directory") != std::string::npos);
  spec.height = 50;
  CHECK(error_of([&] { write_chart_png(path, spec); }).find(path + ": chart size 1000x50") == 0);
  CHECK(decode_image(path).pix == again.pix);  // a failed write left the last chart alone
}

TEST_CASE("chart: text is drawn whole, at its scale, non-printable characters as '?'") {
  Canvas c(20, 10, kWhite);
  c.text(0, 0, "80k", 1, kBlack);
  const char* expect[] = {
      ".##....##...#.......",  //
      "#..#..#..#..#.......",  //
      "#..#..#.##..#..#....",  //
      ".##...##.#..#.#.....",  //
      "#..#..#..#..##......",  //
      "#..#..#..#..#.#.....",  //
      ".##....##...#..#....",  //
      "....................",  //
      "....................",  //
      "....................",
  };
  std::string got, want;
  for (int y = 0; y < 10; ++y) {
    for (int x = 0; x < 20; ++x) got += pixel(c.image(), x, y) == kBlack ? '#' : '.';
    want += std::string(expect[y]) + "\n";
    got += "\n";
  }
  CHECK(got == want);
  CHECK(text_width("80k", 1) == 18);
  CHECK(text_width("80k", 3) == 54);

  Canvas big(60, 30, kWhite), small(20, 10, kWhite);
  big.text(0, 0, "k", 3, kBlack);
  small.text(0, 0, "k", 1, kBlack);
  for (int y = 0; y < 30; ++y)
    for (int x = 0; x < 60; ++x) {
      const bool in_small = x / 3 < 20 && y / 3 < 10 && pixel(small.image(), x / 3, y / 3) == kBlack;
      if ((pixel(big.image(), x, y) == kBlack) != in_small) FAIL_CHECK("scale 3 differs at ", x, ",", y);
    }

  Canvas odd(30, 10, kWhite), plain(30, 10, kWhite);
  odd.text(0, 0, "a\x01\x7f", 1, kBlack);
  plain.text(0, 0, "a??", 1, kBlack);
  CHECK(odd.image().pix == plain.image().pix);
}
