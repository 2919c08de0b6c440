// sync_bn and mabn_sync_stats across ranks (threads sharing a ThreadComm) against one process
// normalizing all the ranks' images at once: bn over the union for sync_bn, mabn over the union
// for mabn_sync_stats. Plain mabn over ranks must make no collective call at all.
#include <doctest/doctest.h>

#include <cstring>

#include "mabdet/comm.h"
#include "norm_harness.h"
#include "thread_comm.h"

using namespace mabdet;

namespace {
// Images [first, first + n) of t (n may be 0: a rank with an empty batch).
Tensor images(const Tensor& t, int first, int n) {
  const Shape& s = t.shape();
  Tensor out(Shape{n, s.c, s.h, s.w});
  if (n) std::memcpy(out.data(), t.data() + size_t(first) * s.chw(), size_t(n) * s.chw() * sizeof(float));
  return out;
}

// Iterations of one norm: inputs and output gradients per iteration, as one process sees them.
struct Stream {
  std::vector<Tensor> x, dy;
  Stream(Shape s, int iters, uint64_t seed) {
    Rng rng(seed);
    for (int i = 0; i < iters; ++i) {
      x.emplace_back(s);
      dy.emplace_back(s);
      test::fill_uniform(x.back(), rng);
      for (size_t k = 0; k < x.back().size(); ++k) x.back()[k] = x.back()[k] * 2.f + 0.3f;
      test::fill_uniform(dy.back(), rng);
    }
  }
};

// What a norm produced over a stream: y and dx of every iteration, its param grads (summed over
// the iterations) and its state at the end.
struct Result {
  std::vector<Tensor> y, dx;
  std::vector<Tensor> grads, state;
};

// The same gamma and beta everywhere (not 1 and 0, so that they matter).
void set_params(Norm& n) {
  Rng rng(7);
  for (Param& p : n.params()) {
    test::fill_uniform(*p.value, rng);
    p.grad->zero();
  }
}

Result run(Norm& n, Context& ctx, const Stream& st, int first, int count) {
  Result r;
  ctx.train = true;
  for (size_t i = 0; i < st.x.size(); ++i) {
    Tensor x = images(st.x[i], first, count), dy = images(st.dy[i], first, count);
    Tensor y(x.shape()), dx(x.shape());
    dx.zero();
    n.reshape(x.shape());
    n.forward(ctx, x, y);
    n.backward(ctx, x, dy, dx, true);
    r.y.push_back(std::move(y));
    r.dx.push_back(std::move(dx));
  }
  for (Param& p : n.params()) r.grads.push_back(p.grad->clone(Device::CPU));
  for (State& s : n.state())
    if (s.tensor) r.state.push_back(s.tensor->clone(Device::CPU));
  return r;
}

void check_close(const Tensor& got, const Tensor& want, float at, const char* what) {
  REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    CAPTURE(what);
    CAPTURE(i);
    CHECK(std::abs(got[i] - want[i]) <= at * std::max(1.f, std::abs(want[i])));
  }
}

// Ranks r = 0.. take split[r] consecutive images of every iteration; their results against one
// process running `single` on all of them. Returns the collective calls made.
int64_t compare_ranks(const std::string& ranked, const std::string& single, const std::vector<int>& split, int iters) {
  int total = 0;
  for (int k : split) total += k;
  const Stream st(Shape{total, 3, 4, 5}, iters, 11);
  auto ref_norm = test::norm_from_cfg(single, 3);
  set_params(*ref_norm);
  Context ref_ctx;
  const Result ref = run(*ref_norm, ref_ctx, st, 0, total);

  test::ThreadHub hub(int(split.size()));
  std::vector<Result> got(split.size());
  test::run_ranks(hub, [&](int r, Comm& comm) {
    auto n = test::norm_from_cfg(ranked, 3);
    set_params(*n);
    Context ctx;
    ctx.comm = &comm;
    int first = 0;
    for (int k = 0; k < r; ++k) first += split[size_t(k)];
    got[size_t(r)] = run(*n, ctx, st, first, split[size_t(r)]);
  });
  // Float sums in another order: 1e-5 of the values (measured worst: a few 1e-7).
  const float tol = 1e-5f;
  for (size_t r = 0, first = 0; r < split.size(); first += size_t(split[r]), ++r) {
    CAPTURE(r);
    for (int i = 0; i < iters; ++i) {
      CAPTURE(i);
      check_close(got[r].y[size_t(i)], images(ref.y[size_t(i)], int(first), split[r]), tol, "y");
      check_close(got[r].dx[size_t(i)], images(ref.dx[size_t(i)], int(first), split[r]), tol, "dx");
    }
    REQUIRE(got[r].state.size() == ref.state.size());
    for (size_t k = 0; k < ref.state.size(); ++k) check_close(got[r].state[k], ref.state[k], tol, "state");
  }
  for (size_t k = 0; k < ref.grads.size(); ++k) {  // the trainer sums param grads over the ranks
    Tensor sum = got[0].grads[k].clone(Device::CPU);
    for (size_t r = 1; r < split.size(); ++r)
      for (size_t i = 0; i < sum.size(); ++i) sum[i] += got[r].grads[k][i];
    check_close(sum, ref.grads[k], tol, "param grad");
  }
  return hub.calls;
}
}  // namespace

TEST_CASE("norm=sync_bn on one rank is bn, bit for bit (no communicator, or a single one)") {
  const Stream st(Shape{2, 3, 4, 5}, 3, 5);
  auto bn = test::norm_from_cfg("[convolutional]\nnorm=bn\n", 3);
  set_params(*bn);
  Context c0;
  const Result want = run(*bn, c0, st, 0, 2);
  SingleComm single;
  for (Comm* comm : {static_cast<Comm*>(nullptr), static_cast<Comm*>(&single)}) {
    CAPTURE(comm != nullptr);
    auto sync = test::norm_from_cfg("[convolutional]\nnorm=sync_bn\n", 3);
    CHECK(sync->name() == "sync_bn");
    set_params(*sync);
    Context ctx;
    ctx.comm = comm;
    const Result got = run(*sync, ctx, st, 0, 2);
    for (size_t i = 0; i < want.y.size(); ++i) {
      CHECK(std::memcmp(got.y[i].data(), want.y[i].data(), want.y[i].size() * sizeof(float)) == 0);
      CHECK(std::memcmp(got.dx[i].data(), want.dx[i].data(), want.dx[i].size() * sizeof(float)) == 0);
    }
    for (size_t k = 0; k < want.grads.size(); ++k)
      CHECK(std::memcmp(got.grads[k].data(), want.grads[k].data(), want.grads[k].size() * sizeof(float)) == 0);
    for (size_t k = 0; k < want.state.size(); ++k)
      CHECK(std::memcmp(got.state[k].data(), want.state[k].data(), want.state[k].size() * sizeof(float)) == 0);
  }
}

TEST_CASE("norm=sync_bn over 2 ranks x 2 images is bn over the 4 images") {
  CHECK(compare_ranks("[convolutional]\nnorm=sync_bn\n", "[convolutional]\nnorm=bn\n", {2, 2}, 3) == 3 * 3);
}

TEST_CASE("norm=sync_bn: uneven ranks and a rank with no images still give bn over the union") {
  compare_ranks("[convolutional]\nnorm=sync_bn\n", "[convolutional]\nnorm=bn\n", {3, 1}, 2);
  compare_ranks("[convolutional]\nnorm=sync_bn\n", "[convolutional]\nnorm=bn\n", {0, 4}, 2);
  compare_ranks("[convolutional]\nnorm=sync_bn\n", "[convolutional]\nnorm=bn\n", {1, 0, 2}, 2);
}

TEST_CASE("norm=sync_bn: one value per channel over all ranks is an error on every rank, none is a no-op") {
  test::ThreadHub hub(2);
  std::vector<std::string> errors(2);
  test::run_ranks(hub, [&](int r, Comm& comm) {
    auto n = test::norm_from_cfg("[convolutional]\nnorm=sync_bn\n", 2);
    Context ctx;
    ctx.comm = &comm;
    ctx.train = true;
    Tensor x(Shape{r, 2, 1, 1}), y(Shape{r, 2, 1, 1});  // rank 0 none, rank 1 one value
    x.fill(1.f);
    try {
      n->forward(ctx, x, y);
    } catch (const Error& e) {
      errors[size_t(r)] = e.what();
    }
    Tensor e0(Shape{0, 2, 1, 1}), y0(Shape{0, 2, 1, 1});
    n->forward(ctx, e0, y0);  // no values anywhere: like bn's empty batch, on both ranks alike
  });
  for (const std::string& e : errors) CHECK(e.find("more than one value per channel over all ranks, got 1") != std::string::npos);
}

TEST_CASE("norm=mabn mabn_sync_stats=1 over 2 ranks x 2 images is mabn over the 4 images, past warm-up") {
  // buffer 2, no warm-up: iterations 3.. use the moving averages of both statistics.
  const std::string keys = "[convolutional]\nnorm=mabn\nmabn_buffer=2\nmabn_warmup=0\n";
  CHECK(compare_ranks(keys + "mabn_sync_stats=1\n", keys, {2, 2}, 5) == 5 * 2);
  compare_ranks(keys + "mabn_sync_stats=1\n", keys, {3, 1}, 5);
}

TEST_CASE("norm=mabn over ranks stays per rank: no collective, each rank is mabn on its own images") {
  const std::string keys = "[convolutional]\nnorm=mabn\nmabn_buffer=2\nmabn_warmup=0\n";
  const Stream st(Shape{4, 3, 4, 5}, 4, 3);
  std::vector<Result> want;
  for (int r = 0; r < 2; ++r) {
    auto n = test::norm_from_cfg(keys, 3);
    set_params(*n);
    Context ctx;
    want.push_back(run(*n, ctx, st, 2 * r, 2));
  }
  test::ThreadHub hub(2);
  std::vector<Result> got(2);
  test::run_ranks(hub, [&](int r, Comm& comm) {
    auto n = test::norm_from_cfg(keys, 3);
    set_params(*n);
    Context ctx;
    ctx.comm = &comm;
    got[size_t(r)] = run(*n, ctx, st, 2 * r, 2);
  });
  CHECK(hub.calls == 0);
  for (int r = 0; r < 2; ++r)
    for (size_t i = 0; i < want[size_t(r)].y.size(); ++i)
      CHECK(std::memcmp(got[size_t(r)].y[i].data(), want[size_t(r)].y[i].data(), want[size_t(r)].y[i].size() * 4) == 0);
}
