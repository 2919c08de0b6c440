// The detector trainer's chart and its history: every loss term of every step and every AP
// measured, kept in NAME_chart.tsv beside NAME_chart.png so that a resumed run redraws the whole
// run, not only the part since the resume.
#pragma once
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "mabdet/chart.h"
#include "mabdet/layer.h"

namespace mabdet {

class ChartLog {
 public:
  // png empty: no chart at all (no backup folder). resume_step > 0 reloads the history of steps
  // <= resume_step (later lines came from a run killed after its last checkpoint); 0 starts anew.
  ChartLog(std::string png, ChartSpec spec, int64_t resume_step);
  ~ChartLog();
  ChartLog(const ChartLog&) = delete;
  ChartLog& operator=(const ChartLog&) = delete;

  void add_terms(int64_t step, const std::vector<LossTerm>& terms);
  void add_metric(int64_t step, const std::string& name, double v);
  void write();  // redraws the PNG (atomically) and flushes the history

 private:
  void add(bool metric, int64_t step, const std::string& name, double v, bool record);
  void load(int64_t resume_step);
  void open_log();

  std::string png_, tsv_;
  ChartSpec spec_;
  std::FILE* log_ = nullptr;
};

}  // namespace mabdet
