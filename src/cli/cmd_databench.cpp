// mabdet databench DATAFILE [...]: how fast this disk and CPU turn a dataset into training batches
// (decode + resize + flip + normalize + pad), with T background threads.
#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstdlib>

#include "cli/commands.h"
#include "mabdet/data/coco.h"
#include "mabdet/data/datafile.h"
#include "mabdet/data/image.h"
#include "mabdet/data/loader.h"
#include "mabdet/error.h"

namespace mabdet::cli {

int databench(const Args& a) {
  std::string data, split = "train";
  LoaderOptions lo;
  lo.masks = false;
  AugmentCfg aug;
  int batches = 20, min_size = 800, max_size = 1333;
  for (size_t i = 0; i < a.size(); ++i) {
    auto val = [&](const char* flag) -> const std::string& {
      if (i + 1 >= a.size()) fail("databench: ", flag, " needs a value");
      return a[++i];
    };
    auto num = [&](const char* flag) -> long long {
      const std::string& s = val(flag);
      char* end = nullptr;
      long long v = std::strtoll(s.c_str(), &end, 10);
      if (s.empty() || *end) fail("databench: ", flag, " expects an integer, got '", s, "'");
      return v;
    };
    if (a[i] == "--split") split = val("--split");
    else if (a[i] == "--threads") lo.threads = int(num("--threads"));
    else if (a[i] == "--batch") lo.batch_size = int(num("--batch"));
    else if (a[i] == "--batches") batches = int(num("--batches"));
    else if (a[i] == "--min-size") min_size = int(num("--min-size"));
    else if (a[i] == "--max-size") max_size = int(num("--max-size"));
    else if (a[i] == "--seed") lo.seed = uint64_t(num("--seed"));
    else if (!a[i].empty() && a[i][0] != '-' && data.empty()) data = a[i];
    else fail("databench: unexpected argument '", a[i], "'");
  }
  if (data.empty()) fail("databench: usage: mabdet databench DATAFILE [--split train|val --threads T ...]");
  if (batches < 2 || min_size < 1 || max_size < 1) fail("databench: --batches must be >= 2, --min-size and --max-size >= 1");
  CocoDataset ds = load_split(read_datafile(data), split, false);
  for (const std::string& m : ds.report.messages) std::fprintf(stderr, "%s\n", m.c_str());
  std::string summary = ds.report.summary(ds.json_path);
  if (!summary.empty()) std::fprintf(stderr, "%s\n", summary.c_str());
  aug.min_sizes = {min_size};
  aug.max_size = max_size;
  // Steady state: the clock starts once the first batch is out (thread start-up and the first
  // decode are paid once per run, not per image).
  auto t_start = std::chrono::steady_clock::now();
  BatchLoader loader(ds, aug, lo);
  Batch b;
  loader.next(b);
  auto t0 = std::chrono::steady_clock::now();
  std::clock_t cpu0 = std::clock();  // process CPU time: what the pipeline costs on a busy machine
  double first = std::chrono::duration<double>(t0 - t_start).count();
  int64_t images = 0;
  for (int i = 1; i < batches; ++i) {
    loader.next(b);
    images += b.size();
  }
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  double cpu_ms = 1000.0 * double(std::clock() - cpu0) / CLOCKS_PER_SEC / double(images);
  std::printf("databench: %lld images in %.3f s after the first batch (%.3f s): %.1f images/s "
              "(threads %d, batch %d, %s, last batch %s, waits %lld); CPU %.1f ms/image\n",
              (long long)images, s, first, images / s, lo.threads, lo.batch_size, image_decoder_name(),
              b.images.shape().str().c_str(), (long long)loader.waits(), cpu_ms);
  return 0;
}

}  // namespace mabdet::cli
