// Compile-level proof that the trainer and the data loader can be used in one translation unit:
// the trainer's per-sub-batch input callback once shared the name BatchLoader with the loader class.
#include <doctest/doctest.h>

#include <type_traits>

#include "mabdet/data/loader.h"
#include "mabdet/trainer.h"

using namespace mabdet;

static_assert(std::is_class_v<BatchLoader> && !std::is_copy_constructible_v<BatchLoader>,
              "mabdet::BatchLoader is the threaded data loader class");
static_assert(std::is_invocable_r_v<const Tensor&, SubBatchSource, int64_t, int, Context&>,
              "mabdet::SubBatchSource hands the trainer one sub-batch's input");

TEST_CASE("trainer.h and data/loader.h compile together") {
  Tensor input(1, 1, 2, 2);
  int calls = 0;
  SubBatchSource source = [&](int64_t step, int sub, Context&) -> const Tensor& {
    calls += int(step) + sub;
    return input;
  };
  Context ctx;
  CHECK(&source(2, 1, ctx) == &input);
  CHECK(calls == 3);
}
