// The prefetching loader: same seed -> identical batches whatever the thread count; batches in
// order across epochs; evaluation passes end; a different seed changes the stream.
#include <doctest/doctest.h>

#include <cstring>

#include "data_fixture.h"
#include "mabdet/data/datafile.h"
#include "mabdet/data/gendata.h"
#include "mabdet/data/loader.h"
#include "mabdet/error.h"

using namespace mabdet;
using namespace mabdet::testing;

namespace {
bool same_batch(const Batch& a, const Batch& b) {
  if (a.images.shape() != b.images.shape() || a.size() != b.size() || a.number != b.number || a.epoch != b.epoch)
    return false;
  if (std::memcmp(a.images.data(), b.images.data(), a.images.size() * sizeof(float))) return false;
  for (int i = 0; i < a.size(); ++i) {
    const ImageMeta &x = a.meta[size_t(i)], &y = b.meta[size_t(i)];
    if (x.image_id != y.image_id || x.plan.out_w != y.plan.out_w || x.plan.out_h != y.plan.out_h ||
        x.plan.flip != y.plan.flip)
      return false;
    const Targets &s = a.targets[size_t(i)], &t = b.targets[size_t(i)];
    if (s.boxes != t.boxes || s.labels != t.labels || s.ann_ids != t.ann_ids || s.crowd_boxes != t.crowd_boxes ||
        s.masks.size() != t.masks.size())
      return false;
  }
  return true;
}

std::vector<Batch> run(const CocoDataset& ds, const AugmentCfg& aug, LoaderOptions lo, int n) {
  BatchLoader loader(ds, aug, lo);
  std::vector<Batch> out(static_cast<size_t>(n));
  for (Batch& b : out) REQUIRE(loader.next(b));
  return out;
}
}  // namespace

TEST_CASE("loader: same seed, different thread counts -> identical batches, in order, across epochs") {
  TempDir tmp;
  GenDataOptions g;
  g.train = 7;
  g.val = 5;
  g.size = 64;
  generate_dataset(tmp.path, g);
  DataFile df = read_datafile(tmp / "shapes.data");
  CocoDataset ds = load_split(df, "train", true);
  REQUIRE(ds.images.size() >= 6);
  AugmentCfg aug;
  aug.min_sizes = {48, 64, 80};
  aug.max_size = 100;
  LoaderOptions lo;
  lo.batch_size = 2;
  lo.seed = 5;
  lo.threads = 0;
  const int n = int(ds.images.size()) / 2 * 2 + 1;  // into the third epoch
  std::vector<Batch> ref = run(ds, aug, lo, n);
  for (int i = 0; i < n; ++i) {
    CHECK(ref[size_t(i)].number == i);
    CHECK(ref[size_t(i)].epoch == i / (int(ds.images.size()) / 2));
  }
  // Random sizes and flips actually vary, and each epoch is a permutation.
  bool any_flip = false, any_plain = false, sizes_vary = false;
  for (const Batch& b : ref)
    for (const ImageMeta& m : b.meta) {
      any_flip |= m.plan.flip;
      any_plain |= !m.plan.flip;
      sizes_vary |= std::min(m.plan.out_w, m.plan.out_h) != std::min(ref[0].meta[0].plan.out_w, ref[0].meta[0].plan.out_h);
    }
  CHECK(any_flip);
  CHECK(any_plain);
  CHECK(sizes_vary);
  for (int threads : {1, 2, 3}) {
    for (int prefetch : {1, 3}) {
      CAPTURE(threads);
      CAPTURE(prefetch);
      lo.threads = threads;
      lo.prefetch = prefetch;
      std::vector<Batch> got = run(ds, aug, lo, n);
      for (int i = 0; i < n; ++i) CHECK(same_batch(ref[size_t(i)], got[size_t(i)]));
    }
  }
  lo.seed = 6;
  std::vector<Batch> other = run(ds, aug, lo, n);
  int differ = 0;
  for (int i = 0; i < n; ++i) differ += !same_batch(ref[size_t(i)], other[size_t(i)]);
  CHECK(differ > n / 2);

  // Evaluation: json order, no flip, test_size, the last partial batch kept, then the end.
  CocoDataset val = load_split(df, "val", true);
  lo.train = false;
  lo.threads = 2;
  BatchLoader ev(val, aug, lo);
  CHECK(ev.batches_per_epoch() == int64_t(val.images.size() + 1) / 2);
  Batch b;
  size_t seen = 0;
  while (ev.next(b)) {
    for (const ImageMeta& m : b.meta) {
      CHECK(m.image_id == val.images[seen].id);
      CHECK(!m.plan.flip);
      CHECK(std::max(m.plan.out_w, m.plan.out_h) == aug.max_size);  // test_size 800 capped by max_size
      ++seen;
    }
  }
  CHECK(seen == val.images.size());
  CHECK(!ev.next(b));
}

TEST_CASE("loader: epoch batches group by orientation, same count every epoch, each image at most once") {
  // 13 landscape and 8 portrait images (json only: no pixels needed to plan batches).
  std::string images;
  for (int i = 0; i < 21; ++i)
    images += cat(i ? "," : "", R"({"id": )", i + 1, R"(, "file_name": "x.png", "width": )", i < 13 ? 60 : 40,
                  R"(, "height": )", i < 13 ? 40 : 60, "}");
  CocoLoadOptions keep;
  keep.filter_empty = false;
  CocoDataset ds = load_coco_text(R"({"images": [)" + images + R"(], "categories": [{"id": 1, "name": "a"}]})",
                                  "g.json", "", keep);
  LoaderOptions lo;
  lo.batch_size = 3;
  std::vector<int64_t> first;
  for (int64_t epoch = 0; epoch < 4; ++epoch) {
    EpochBatches eb = epoch_batches(ds, lo, epoch);
    CHECK(eb.size() == 13 / 3 + 8 / 3);  // leftovers of each orientation dropped
    std::vector<int> seen(ds.images.size(), 0);
    for (const auto& b : eb) {
      REQUIRE(b.size() == 3);
      for (int64_t i : b) {
        ++seen[size_t(i)];
        CHECK((i < 13) == (b[0] < 13));  // one orientation per batch
      }
    }
    for (int s : seen) CHECK(s <= 1);
    if (epoch == 0) first = eb[0];
    else CHECK(eb[0] != first);  // reshuffled (3 of 21: a repeat is unlikely, and seeded)
  }
  lo.group_aspect = false;
  CHECK(epoch_batches(ds, lo, 0).size() == 21 / 3);
  lo.train = false;
  EpochBatches ev = epoch_batches(ds, lo, 0);
  REQUIRE(ev.size() == 7);
  CHECK(ev[6] == std::vector<int64_t>{18, 19, 20});
}

// A data-parallel rank's loader: of every `period` batches (one step's sub-batches over all
// ranks) it hands out `take` from `offset`, the very batches an unsharded loader gives under
// those numbers, from a resumed start too, whatever the thread count; the ranks' shards together
// are every batch exactly once.
TEST_CASE("loader: shard of every step's batches for a data-parallel rank") {
  TempDir tmp;
  GenDataOptions g;
  g.train = 9;
  g.val = 2;
  g.size = 64;
  generate_dataset(tmp.path, g);
  DataFile df = read_datafile(tmp / "shapes.data");
  CocoDataset ds = load_split(df, "train", true);
  AugmentCfg aug;
  aug.min_sizes = {48, 64};
  aug.max_size = 100;
  LoaderOptions lo;
  lo.batch_size = 1;
  lo.seed = 3;
  lo.threads = 0;
  const std::vector<Batch> all = run(ds, aug, lo, 40);
  for (int threads : {0, 2}) {
    CAPTURE(threads);
    std::vector<int> seen(40, 0);
    for (int rank = 0; rank < 2; ++rank) {
      LoaderOptions r = lo;
      r.threads = threads;
      r.shard_period = 4;  // subdivisions 4 over 2 ranks: 2 sub-batches each
      r.shard_take = 2;
      r.shard_offset = 2 * rank;
      r.start_batch = 8;  // resumed at step 2
      const std::vector<Batch> got = run(ds, aug, r, 16);
      for (int k = 0; k < 16; ++k) {
        const int64_t want = 8 + k / 2 * 4 + 2 * rank + k % 2;
        CAPTURE(k);
        CHECK(got[size_t(k)].number == want);
        CHECK(same_batch(got[size_t(k)], all[size_t(want)]));
        ++seen[size_t(want)];
      }
    }
    for (int b = 8; b < 40; ++b) CHECK(seen[size_t(b)] == 1);
  }
  LoaderOptions bad = lo;
  bad.shard_period = 4;
  bad.start_batch = 6;
  CHECK_THROWS_WITH_AS(BatchLoader(ds, aug, bad), doctest::Contains("start_batch 6 does not begin a shard period"), Error);
  bad.start_batch = 0;
  bad.shard_offset = 3;
  bad.shard_take = 2;
  CHECK_THROWS_WITH_AS(BatchLoader(ds, aug, bad), doctest::Contains("does not fit in its period"), Error);
}
