// mabdet classifier train CFG DATA [WEIGHTS] [--stop-after N] [--save-every N] [--log-every N]
//   | classifier valid CFG DATA WEIGHTS | classifier export CFG DATA OUT.bin [INIT_WEIGHTS] [--stop-after N]
#include <cerrno>
#include <cstdio>
#include <cstdlib>

#include "cli/commands.h"
#include "mabdet/classifier.h"
#include "mabdet/classifier_export.h"
#include "mabdet/comm.h"
#include "mabdet/device_choice.h"
#include "mabdet/error.h"

namespace mabdet::cli {

int classifier(const Args& a) {
  if (a.empty())
    fail("usage: mabdet classifier train CFG DATA [WEIGHTS] [--stop-after N] [--save-every N] [--log-every N] | valid CFG DATA WEIGHTS"
         " | export CFG DATA OUT.bin [INIT_WEIGHTS] [--stop-after N]");
  std::vector<std::string> pos;
  ClassifierTrainOptions opt;
  for (size_t i = 1; i < a.size(); ++i) {
    if (a[i] == "--stop-after" && i + 1 < a.size()) {
      char* end = nullptr;
      errno = 0;
      opt.stop_after = std::strtoll(a[++i].c_str(), &end, 10);
      if (a[i].empty() || *end || errno == ERANGE || opt.stop_after < 1)
        fail("--stop-after: expected a positive step count, got '", a[i], "'");
    } else if (a[i] == "--save-every" && i + 1 < a.size()) {
      char* end = nullptr;
      long long v = std::strtoll(a[++i].c_str(), &end, 10);
      if (a[i].empty() || *end || v < 1 || v > 1000000000) fail("--save-every: expected a step count in 1..1000000000, got '", a[i], "'");
      opt.save_every = int(v);
    } else if (a[i] == "--log-every" && i + 1 < a.size()) {
      char* end = nullptr;
      long long v = std::strtoll(a[++i].c_str(), &end, 10);
      if (a[i].empty() || *end || v < 1 || v > 1000000000) fail("--log-every: expected a step count in 1..1000000000, got '", a[i], "'");
      opt.log_every = int(v);
    } else if (a[i].rfind("--", 0) == 0) {
      fail("classifier: unknown option '", a[i], "'");
    } else {
      pos.push_back(a[i]);
    }
  }
  if (a[0] == "train") {
    if (pos.size() < 2 || pos.size() > 3) fail("usage: mabdet classifier train CFG DATA [WEIGHTS] [--stop-after N] [--save-every N] [--log-every N]");
    if (pos.size() == 3) opt.weights = pos[2];
    opt.comm = &world();
    opt.device = pick_device(device_choice());
    std::string out = classifier_train(pos[0], pos[1], opt);
    if (world().rank() == 0) classifier_valid(pos[0], pos[1], out, false, opt.device);  // the weights rank 0 wrote
    return 0;
  }
  if (world().size() > 1) fail("classifier ", a[0], " runs in one process; start it without mpirun");
  if (a[0] == "valid") {
    if (pos.size() != 3 || opt.stop_after >= 0) fail("usage: mabdet classifier valid CFG DATA WEIGHTS");
    classifier_valid(pos[0], pos[1], pos[2], true, pick_device(device_choice()));
    return 0;
  }
  if (a[0] == "export") {  // the training run's images for scripts/torch_classifier_check.py
    if (pos.size() < 3 || pos.size() > 4) fail("usage: mabdet classifier export CFG DATA OUT.bin [INIT_WEIGHTS] [--stop-after N]");
    classifier_export(pos[0], pos[1], pos[2], opt.stop_after, pos.size() == 4 ? pos[3] : "");
    return 0;
  }
  fail("classifier: unknown action '", a[0], "' (train | valid | export)");
}

}  // namespace mabdet::cli
