#include <doctest/doctest.h>

#include <set>

#include "detect_util.h"
#include "mabdet/detect/sampler.h"

using namespace mabdet;
using namespace mabdet::detect;
using namespace mabdet::test;

namespace {
IndexTensor labels_of(std::initializer_list<int> v) {
  IndexTensor t(int(v.size()), 1);
  std::copy(v.begin(), v.end(), t.data());
  return t;
}
std::vector<int> ints(const IndexTensor& t) { return std::vector<int>(t.data(), t.data() + t.size()); }
}  // namespace

TEST_CASE("detect sampler: quota of positives, the rest negatives, never an ignored one") {
  // 20 positives (labels 1..3), 30 negatives (0), 10 ignored (-1)
  IndexTensor labels(60, 1);
  for (int i = 0; i < 60; ++i) labels[i] = i % 3 == 0 ? -1 : i < 40 && i % 2 ? 1 + i % 3 : 0;
  int npos = 0, nneg = 0;
  for (int i = 0; i < 60; ++i) npos += labels[i] > 0, nneg += labels[i] == 0;
  REQUIRE(npos > 8);
  REQUIRE(nneg > 16);
  BalancedSampler s{16, 0.25, 0};
  Rng rng(7);
  IndexTensor pos, neg;
  s.sample(labels, rng, pos, neg);
  REQUIRE(pos.n() == 4);  // int(16 * 0.25)
  REQUIRE(neg.n() == 12);
  for (int i = 0; i < pos.n(); ++i) CHECK(labels[pos[i]] > 0);
  for (int i = 0; i < neg.n(); ++i) CHECK(labels[neg[i]] == 0);
  for (int i = 1; i < pos.n(); ++i) CHECK(pos[i - 1] < pos[i]);  // ascending, no repeats
  for (int i = 1; i < neg.n(); ++i) CHECK(neg[i - 1] < neg[i]);
}

TEST_CASE("detect sampler: fewer positives than the quota are all taken, negatives fill the batch") {
  const IndexTensor labels = labels_of({0, 1, 0, 0, -1, 0, 0, 0, 0, 1, 0, 0, 0, -1});
  BalancedSampler s{8, 0.5, 0};
  Rng rng(1);
  IndexTensor pos, neg;
  s.sample(labels, rng, pos, neg);
  CHECK(ints(pos) == std::vector<int>{1, 9});
  CHECK(neg.n() == 6);
  // not enough negatives either: everything that is not ignored
  BalancedSampler big{100, 0.25, 0};
  big.sample(labels, rng, pos, neg);
  CHECK(ints(pos) == std::vector<int>{1, 9});
  CHECK(ints(neg) == std::vector<int>{0, 2, 3, 5, 6, 7, 8, 10, 11, 12});
  // an image without positives (no ground truth): a batch of negatives only
  const IndexTensor bg = labels_of({0, 0, 0, 0, 0});
  s.sample(bg, rng, pos, neg);
  CHECK(pos.n() == 0);
  CHECK(neg.n() == 5);
  // box-head labels: class ids with background = num_classes (here 3)
  BalancedSampler roi{4, 0.5, 3};
  roi.sample(labels_of({3, 0, 2, 3, -1, 3, 1}), rng, pos, neg);
  REQUIRE(pos.n() == 2);  // 2 of the positives 1, 2, 6 (class 0 is a class here)
  REQUIRE(neg.n() == 2);
  for (int i = 0; i < 2; ++i) CHECK((pos[i] == 1 || pos[i] == 2 || pos[i] == 6));
  for (int i = 0; i < 2; ++i) CHECK((neg[i] == 0 || neg[i] == 3 || neg[i] == 5));
}

TEST_CASE("detect sampler: reproducible from the seed, uniform over the candidates") {
  IndexTensor labels(40, 1);
  for (int i = 0; i < 40; ++i) labels[i] = i < 10 ? 1 : 0;
  BalancedSampler s{8, 0.25, 0};  // 2 of 10 positives, 6 of 30 negatives
  Rng a(42), b(42), c(43);
  IndexTensor pa, na, pb, nb, pc, nc;
  s.sample(labels, a, pa, na);
  s.sample(labels, b, pb, nb);
  s.sample(labels, c, pc, nc);
  CHECK(ints(pa) == ints(pb));
  CHECK(ints(na) == ints(nb));
  CHECK((ints(pa) != ints(pc) || ints(na) != ints(nc)));
  // Each positive should be drawn 2/10 of the time: 4000 draws, 800 expected each (sd ~25).
  std::vector<int> hits(10, 0);
  Rng r(5);
  for (int t = 0; t < 4000; ++t) {
    s.sample(labels, r, pa, na);
    for (int i = 0; i < pa.n(); ++i) ++hits[pa[i]];
  }
  for (int h : hits) CHECK((h > 680 && h < 920));
}
