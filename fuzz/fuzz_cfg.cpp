// cfg text -> sections -> Network: the INI parser, every layer factory's key checks and the
// build-time shape arithmetic (output sizes, parameter counts, allocations).
#include "fuzz_util.h"
#include "mabdet/network.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  mabdet_fuzz::expect_clean([&] {
    std::vector<mabdet::Section> sections = mabdet::parse_cfg_text(text, "fuzz.cfg");
    if (sections.empty()) return;
    mabdet::Network net(sections);
    // What checkpoints and the optimizer walk: a gradient of another shape than its param would
    // corrupt memory at the first backward.
    for (size_t i = 0; i < net.size(); ++i) {
      for (const mabdet::Param& p : net.saved_params(i))
        if (p.grad->shape() != p.value->shape()) std::abort();
      for (const mabdet::State& s : net.saved_state(i))
        if (!s.tensor == !s.counter) std::abort();
    }
    (void)net.params();
  });
  return 0;
}
