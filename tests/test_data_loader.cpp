// The prefetching loader: same seed -> identical batches whatever the thread count; batches in
// order across epochs; evaluation passes end; a different seed changes the stream.
#include <doctest/doctest.h>

#include <cstring>

#include "data_fixture.h"
#include "mabdet/data/datafile.h"
#include "mabdet/data/gendata.h"
#include "mabdet/data/loader.h"

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
  CocoDataset ds = load_coco(df.train_json, df.train_images);
  check_categories(df, ds);
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
  CocoDataset val = load_coco(df.val_json, df.val_images);
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
