// mabdet gendata OUTDIR [--train N --val M --size S --height H --seed K]
#include <cstdio>
#include <cstdlib>

#include "cli/commands.h"
#include "mabdet/data/gendata.h"
#include "mabdet/error.h"

namespace mabdet::cli {

int gendata(const Args& a) {
  GenDataOptions opt;
  std::string out;
  for (size_t i = 0; i < a.size(); ++i) {
    auto num = [&](const char* flag) -> long long {
      if (i + 1 >= a.size()) fail("gendata: ", flag, " needs a value");
      char* end = nullptr;
      long long v = std::strtoll(a[++i].c_str(), &end, 10);
      if (a[i].empty() || *end) fail("gendata: ", flag, " expects an integer, got '", a[i], "'");
      return v;
    };
    if (a[i] == "--train") opt.train = int(num("--train"));
    else if (a[i] == "--val") opt.val = int(num("--val"));
    else if (a[i] == "--size") opt.size = int(num("--size"));
    else if (a[i] == "--height") opt.height = int(num("--height"));
    else if (a[i] == "--seed") opt.seed = uint64_t(num("--seed"));
    else if (!a[i].empty() && a[i][0] != '-' && out.empty()) out = a[i];
    else fail("gendata: unexpected argument '", a[i], "'");
  }
  if (out.empty()) fail("gendata: usage: mabdet gendata OUTDIR [--train N --val M --size S --seed K --height H]");
  generate_dataset(out, opt);
  std::printf("gendata: %d train + %d val images (%dpx, seed %llu) in %s; train with %s/shapes.data\n", opt.train,
              opt.val, opt.size, (unsigned long long)opt.seed, out.c_str(), out.c_str());
  return 0;
}

}  // namespace mabdet::cli
