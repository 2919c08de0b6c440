#include "detector/chart_log.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "mabdet/atomic_write.h"
#include "mabdet/error.h"

namespace mabdet {
namespace {

ChartSeries& series(std::vector<ChartSeries>& all, const std::string& name) {
  for (ChartSeries& s : all)
    if (s.name == name) return s;
  all.push_back(ChartSeries{name, {}});
  return all.back();
}

void put_line(std::FILE* f, double step, bool metric, const std::string& name, double v) {
  std::fprintf(f, "%lld\t%s\t%s\t%.9g\n", (long long)step, metric ? "metric" : "loss", name.c_str(), v);
}

}  // namespace

ChartLog::ChartLog(std::string png, ChartSpec spec, int64_t resume_step) : png_(std::move(png)), spec_(std::move(spec)) {
  if (png_.empty()) return;
  tsv_ = png_.substr(0, png_.size() - 4) + ".tsv";
  load(resume_step);
}

// The kept history is rewritten whole, then appended to: a line a killed run left past its
// checkpoint is gone, and a half-written last line cannot survive. Done at the first record,
// when the trainer has made and probed the backup folder.
void ChartLog::open_log() {
  write_atomically(tsv_, [&](const std::string& tmp) {
    std::FILE* f = std::fopen(tmp.c_str(), "w");
    if (!f) fail(tmp, ": cannot write (", std::strerror(errno), ")");
    for (int metric = 0; metric < 2; ++metric)
      for (const ChartSeries& s : metric ? spec_.metrics : spec_.losses)
        for (const auto& [x, y] : s.points) put_line(f, x, metric, s.name, y);
    if (std::fclose(f) != 0) fail(tmp, ": write failed (", std::strerror(errno), ")");
  });
  log_ = std::fopen(tsv_.c_str(), "a");
  if (!log_) fail(tsv_, ": cannot append (", std::strerror(errno), ")");
}

ChartLog::~ChartLog() {
  if (log_) std::fclose(log_);
}

void ChartLog::load(int64_t resume_step) {
  if (resume_step <= 0) return;
  std::ifstream in(tsv_);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    long long step;
    std::string kind, name, value;
    if (!(ls >> step) || !std::getline(ls.ignore(1), kind, '\t') || !std::getline(ls, name, '\t') ||
        !std::getline(ls, value) || (kind != "loss" && kind != "metric"))
      continue;  // a line cut by a kill: the history is a picture, not state
    char* end = nullptr;
    const double v = std::strtod(value.c_str(), &end);
    if (end == value.c_str() || step < 0 || step > resume_step) continue;
    add(kind == "metric", step, name, v, false);
  }
}

void ChartLog::add(bool metric, int64_t step, const std::string& name, double v, bool record) {
  if (record && !png_.empty() && !log_) open_log();
  series(metric ? spec_.metrics : spec_.losses, name).points.emplace_back(double(step), v);
  if (record && log_) put_line(log_, double(step), metric, name, v);
}

void ChartLog::add_terms(int64_t step, const std::vector<LossTerm>& terms) {
  for (const LossTerm& t : terms) add(false, step, t.name, t.value, true);
}

void ChartLog::add_metric(int64_t step, const std::string& name, double v) { add(true, step, name, v, true); }

void ChartLog::write() {
  if (png_.empty()) return;
  if (log_) std::fflush(log_);
  write_chart_png(png_, spec_);
}

}  // namespace mabdet
