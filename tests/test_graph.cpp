// The graph a two-stage detector is written in: multi-output layers with Index ports, stopped
// gradients, weight sharing, per-section training keys, named loss terms, shapes that change
// between forwards, and the public conv unit composite sections are built from.
#include <doctest/doctest.h>

#include "gradcheck.h"
#include "mabdet/conv_unit.h"
#include "mabdet/data/batch.h"
#include "mabdet/network.h"
#include "mabdet/sgd.h"
#include "test_util.h"

using namespace mabdet;
using mabdet::test::error_of;

namespace {
Network net_from(const std::string& text) { return Network(parse_cfg_text(text, "g.cfg")); }

// argmax of the input (value + Index port; from the input so that no param moves a tie) and
// a -> b -> select(b, argmax:index), joined into the classification loss. A second branch reads `a` under a stop-gradient into its own weighted loss.
std::string two_branch(float aux_weight) {
  return cat(R"([net]
batch=2
width=5
height=5
channels=3
seed=7
[convolutional]
name=a
filters=4
size=3
pad=1
activation=leaky
[argmax]
name=am
from=input
[convolutional]
name=b
from=a
filters=3
size=1
[select]
name=sel
from=b,am:index
[route]
from=am,sel
[connected]
output=3
[softmax]
name=cls
[convolutional]
name=c
from=a
stop_gradient=1
filters=3
size=3
pad=1
[avgpool]
[softmax]
name=aux
loss_weight=)",
             aux_weight, "\n");
}

struct Fixture {
  Tensor x{2, 3, 5, 5};
  IndexTensor labels{2, 1};
  Context ctx;
  Fixture() {
    Rng rng(11);
    test::fill_uniform(x, rng);
    labels[0] = 2;
    labels[1] = 0;
    ctx.train = true;
    ctx.labels = &labels;
  }
};

// A GradCheck of the network's total loss over the params of the listed layers.
test::GradCheck net_check(Network& net, Fixture& f, Tensor& loss, Tensor& dloss, const std::vector<size_t>& layers) {
  test::GradCheck g;
  g.out = &loss;
  g.dout = &dloss;
  g.forward = [&net, &f, &loss] {
    net.forward(f.ctx, f.x);
    loss[0] = float(net.loss());
  };
  g.backward = [&net, &f, &dloss] {
    f.ctx.loss_scale = dloss[0];  // loss layers are terminal: dL/dloss enters through loss_scale
    net.backward(f.ctx);
    f.ctx.loss_scale = 1.f;
  };
  for (size_t i : layers)
    for (Param& p : net.saved_params(i)) g.probes.push_back({cat(net.name(i), ".", p.name), p.value, p.grad});
  g.state = net.state();
  return g;
}
}  // namespace

TEST_CASE("graph: two branches, a multi-output layer, an Index port and a stopped gradient") {
  Fixture f;
  Network net = net_from(two_branch(0.5f));
  // Ports resolve: select reads am's Index port, route reads am's main port.
  CHECK(net.inputs(3) == std::vector<int>{2, 1});
  CHECK(net.inputs(4) == std::vector<int>{1, 3});
  net.forward(f.ctx, f.x);
  const Tensor& x = f.x;
  const IndexTensor& idx = net.index_output(1, "index");
  REQUIRE(idx.shape() == Shape{2, 1, 5, 5});
  for (size_t p = 0; p < 25; ++p) {  // the Index port is the argmax over channels
    int best = 0;
    for (int c = 1; c < 3; ++c)
      if (x[c * 25 + p] > x[best * 25 + p]) best = c;
    CHECK(idx[p] == best);
    CHECK(net.output(1)[p] == x[best * 25 + p]);
    CHECK(net.output(3)[p] == net.output(2)[best * 25 + p]);
  }
  // Layers downstream of the stop are judged against finite differences of the whole loss.
  Tensor loss(1, 1), dloss(1, 1);
  test::GradCheck g = net_check(net, f, loss, dloss, {2, 5, 7});
  CHECK(test::gradcheck(g, 3, 16, 1e-3f) < 1e-2);
  // `a` gets gradient from the classification branch only: the same as when aux weighs nothing,
  // and then finite differences of the whole loss agree with it.
  Network quiet = net_from(two_branch(0.f));
  test::GradCheck gq = net_check(quiet, f, loss, dloss, {0});
  CHECK(test::gradcheck(gq, 4, 16, 1e-3f) < 1e-2);
  net.zero_grads();
  quiet.zero_grads();
  for (Network* n : {&net, &quiet}) {
    f.ctx.loss_scale = 1.f;
    n->forward(f.ctx, f.x);
    n->backward(f.ctx);
  }
  const Tensor& ga = *net.saved_params(0)[0].grad;
  const Tensor& gq0 = *quiet.saved_params(0)[0].grad;
  double norm = 0;
  for (size_t i = 0; i < ga.size(); ++i) {
    CHECK(ga[i] == gq0[i]);
    norm += std::fabs(ga[i]);
  }
  CHECK(norm > 0);
  // Named loss terms, weighted, summed into the loss.
  std::vector<LossTerm> terms = net.loss_terms();
  REQUIRE(terms.size() == 2);
  CHECK(terms[0].name == "cls");
  CHECK(terms[1].name == "aux");
  std::vector<LossTerm> quiet_terms = quiet.loss_terms();
  CHECK(quiet_terms[1].value == 0.0);
  CHECK(net.loss() == doctest::Approx(terms[0].value + terms[1].value));
  CHECK(terms[0].value == doctest::Approx(quiet_terms[0].value));
}

TEST_CASE("graph: port and Index input errors name the line and what exists") {
  CHECK(error_of([] { net_from("[net]\nwidth=4\nheight=4\n[argmax]\nname=am\n[select]\nfrom=input,am:idx\n"); }) ==
        "g.cfg:7 [select] from=input,am:idx: 'am:idx': layer 0 [argmax] has no port 'idx'; its ports: (main), index");
  CHECK(error_of([] { net_from("[net]\nwidth=4\nheight=4\n[argmax]\n[select]\nfrom=input\n"); })
            .find("g.cfg:6 [select] from=input: [select] takes 1 Index inputs") == 0);
  CHECK(error_of([] { net_from("[net]\nwidth=4\nheight=4\n[maxpool]\nsize=2\nlr_mult=2\n"); }) ==
        "g.cfg:6 [maxpool] lr_mult=2: [maxpool] has no parameters");
  CHECK(error_of([] { net_from("[net]\nwidth=4\nheight=4\n[maxpool]\nsize=2\nloss_weight=2\n"); }) ==
        "g.cfg:6 [maxpool] loss_weight=2: [maxpool] is not a loss");
  CHECK(error_of([] { net_from("[net]\nwidth=4\nheight=4\n[convolutional]\nfilters=1\nsize=1\n[route]\nfrom=0,input\nstop_gradient=1,0,1\n"); }) ==
        "g.cfg:9 [route] stop_gradient=1,0,1: give one 0/1 or one per from= entry (2)");
}

namespace {
// pre -> s1 -> s2 (s2 uses s1's params when shared) -> s1 + s2 -> fc -> softmax.
std::string shared_chain(const std::string& norm, const std::string& share) {
  return cat("[net]\nbatch=2\nwidth=4\nheight=4\nchannels=2\nseed=3\nnorm=", norm,
             "\n[convolutional]\nname=pre\nfilters=3\nsize=3\npad=1\nactivation=leaky\n"
             "[convolutional]\nname=s1\nfilters=3\nsize=3\npad=1\nactivation=leaky\n"
             "[convolutional]\nname=s2\nfilters=3\nsize=3\npad=1\nactivation=leaky\n",
             share, "[shortcut]\nfrom=s1\n[connected]\noutput=3\n[softmax]\n");
}
}  // namespace

TEST_CASE("graph: share= uses one param storage; its gradient is the sum over uses") {
  Fixture f;
  f.x = Tensor(2, 2, 4, 4);
  Rng rng(2);
  test::fill_uniform(f.x, rng);
  Network shared = net_from(shared_chain("bn", "share=s1\n"));
  Network apart = net_from(shared_chain("bn", ""));
  // The same values in both: apart's s2 starts as a copy of s1, every other layer as in `shared`.
  for (size_t i = 0; i < apart.size(); ++i) {
    std::vector<Param> from = shared.saved_params(i == 2 ? 1 : i), to = apart.saved_params(i);
    REQUIRE(from.size() == to.size());
    for (size_t k = 0; k < to.size(); ++k) to[k].value->copy_from(*from[k].value);
  }
  CHECK(shared.params().size() + apart.saved_params(2).size() == apart.params().size());
  CHECK(shared.saved_params(2).empty());  // the owner saves it
  for (Network* n : {&shared, &apart}) {
    n->zero_grads();
    n->forward(f.ctx, f.x);
    n->backward(f.ctx);
  }
  CHECK(shared.loss() == doctest::Approx(apart.loss()).epsilon(1e-6));
  std::vector<Param> g = shared.saved_params(1), g1 = apart.saved_params(1), g2 = apart.saved_params(2);
  for (size_t k = 0; k < g.size(); ++k)
    for (size_t i = 0; i < g[k].grad->size(); ++i)
      CHECK((*g[k].grad)[i] == doctest::Approx((*g1[k].grad)[i] + (*g2[k].grad)[i]).epsilon(1e-5));
  // Finite differences move both uses at once.
  Tensor loss(1, 1), dloss(1, 1);
  test::GradCheck gc = net_check(shared, f, loss, dloss, {0, 1, 4});
  CHECK(test::gradcheck(gc, 5, 16, 1e-3f) < 1e-2);
  // Norm statistics: per layer by default, one storage with share_stats=1.
  auto running_mean = [](Network& n, size_t i) { return n.layer(i).state()[0].tensor; };
  CHECK(running_mean(shared, 1) != running_mean(shared, 2));
  CHECK((*running_mean(shared, 1))[0] != (*running_mean(shared, 2))[0]);
  Network stats = net_from(shared_chain("bn", "share=s1\nshare_stats=1\n"));
  CHECK(running_mean(stats, 2)->data() == running_mean(stats, 1)->data());
  CHECK(error_of([] { net_from(shared_chain("mabn", "share=s1\nshare_stats=1\n")); })
            .find("share_stats=1: 'norm.t' counts this layer's own forwards") != std::string::npos);
  CHECK(error_of([] { net_from(shared_chain("bn", "share=pre\n")); }).find("share=pre: pre (cfg line") != std::string::npos);
}

TEST_CASE("graph: freeze, freeze_at, lr_mult and decay_mult reach the optimizer") {
  const std::string net = "[net]\nbatch=2\nwidth=4\nheight=4\nchannels=2\nfreeze_at=2\n"
                          "[convolutional]\nname=stem\nfilters=3\nsize=3\npad=1\n"
                          "[convolutional]\nname=res2\nfilters=3\nsize=3\npad=1\n"
                          "[convolutional]\nfilters=3\nsize=3\npad=1\nlr_mult=0.5\ndecay_mult=0\n"
                          "[convolutional]\nfilters=3\nsize=1\nfreeze=1\n"
                          "[connected]\noutput=3\n[softmax]\n";
  Network n = net_from(net);
  CHECK_FALSE(n.needs_grad(0));
  CHECK_FALSE(n.needs_grad(1));
  CHECK(n.needs_grad(2));
  CHECK(n.needs_grad(3));  // frozen, but between trainable layers: its input gradient is needed
  std::vector<Param> ps = n.params();
  REQUIRE(ps.size() == 4);  // weights and bias of layers 2 and 4
  Fixture f;
  f.x = Tensor(2, 2, 4, 4);
  Rng rng(4);
  test::fill_uniform(f.x, rng);
  std::vector<Tensor> before;
  for (size_t i = 0; i < n.size(); ++i)
    for (Param& p : n.saved_params(i)) before.push_back(p.value->clone());
  n.forward(f.ctx, f.x);
  n.backward(f.ctx);
  Sgd sgd(n.params(), 0.f, 0.f);
  sgd.step(0.1f);
  size_t k = 0;
  for (size_t i = 0; i < n.size(); ++i)
    for (Param& p : n.saved_params(i)) {
      bool same = true;
      for (size_t j = 0; j < p.value->size(); ++j) same = same && (*p.value)[j] == before[k][j];
      CHECK_MESSAGE(same == (i == 0 || i == 1 || i == 3), "layer ", i, " ", p.name);
      ++k;
    }
  CHECK(error_of([] { net_from("[net]\nwidth=4\nheight=4\nfreeze_at=3\n[convolutional]\nname=stem\nfilters=2\nsize=1\n"); })
            .find("g.cfg:4 [net] freeze_at=3: needs a layer named res3") == 0);
}

TEST_CASE("graph: lr_mult and decay_mult multiply each param's own") {
  Network n = net_from("[net]\nwidth=4\nheight=4\n[convolutional]\nfilters=2\nsize=1\nlr_mult=0.5\ndecay_mult=2\n");
  std::vector<Param> ps = n.params();
  REQUIRE(ps.size() == 2);
  CHECK(ps[0].name == "weights");
  CHECK(ps[0].lr_mult == 0.5f);
  CHECK(ps[0].decay_mult == 2.f);
  CHECK(ps[1].lr_mult == 0.5f);
  CHECK(ps[1].decay_mult == 0.f);  // a bias stays undecayed
}

TEST_CASE("graph: shapes change between forwards in both directions, buffers only grow") {
  Network n = net_from("[net]\nwidth=6\nheight=6\nchannels=2\nnorm=bn\n[convolutional]\nfilters=3\nsize=3\npad=1\n"
                       "activation=relu\n[maxpool]\nsize=2\nstride=2\n[connected]\noutput=4\n");
  Context ctx;
  ctx.train = true;
  Rng rng(9);
  Tensor x4(4, 2, 6, 6), x2(2, 2, 6, 6);
  test::fill_uniform(x4, rng);
  n.forward(ctx, x4);
  const float* p0 = n.output(0).data();
  const float* p2 = n.output(2).data();
  n.forward(ctx, x2);
  CHECK(n.output(2).shape() == Shape{2, 4, 1, 1});
  CHECK(n.output(0).data() == p0);  // a smaller batch reuses the buffers
  n.backward(ctx);
  n.forward(ctx, x4);
  CHECK(n.output(2).shape() == Shape{4, 4, 1, 1});
  CHECK(n.output(2).data() == p2);
  n.backward(ctx);
  // The layer itself checks what backward is given against its forward.
  Layer& conv = n.layer(0);
  Tensor y, dy(4, 3, 6, 6), dx(2, 2, 6, 6);
  conv.run_forward(ctx, {&x4}, y);
  CHECK(error_of([&] { conv.run_backward(ctx, {&x2}, y, dy, {&dx}); }).find("backward input 0 is 2x2x6x6, the forward had 4x2x6x6") !=
        std::string::npos);
}

TEST_CASE("conv unit: a composite's conv follows norm= and the conv keys of its section") {
  std::vector<Section> secs = parse_cfg_text("[net]\nnorm=mabn\nmabn_buffer=4\n[head]\n", "u.cfg");
  Rng rng(1);
  ConvSpec spec;
  spec.filters = 5;
  std::unique_ptr<Layer> unit = make_conv_unit(Scope{secs[1], &secs[0]}, 3, spec, rng);
  std::vector<std::string> names;
  for (Param& p : unit->params()) names.push_back(p.name);
  CHECK(names == std::vector<std::string>{"weights", "norm.gamma", "norm.beta"});
  bool has_t = false;
  for (State& s : unit->state()) has_t = has_t || s.name == "norm.t";
  CHECK(has_t);
  Context ctx;
  ctx.train = true;
  Tensor x(2, 3, 6, 6), y;
  test::fill_uniform(x, rng);
  unit->run_forward(ctx, {&x}, y);
  CHECK(y.shape() == Shape{2, 5, 6, 6});  // "same" padding by default
  // Centred filters by default under MABN: every filter of the used weights has mean zero, so
  // a constant input gives a constant pre-norm output of zero and y = beta = 0 after relu.
  Tensor ones(1, 3, 6, 6);
  ones.fill(1.f);
  ctx.train = false;
  unit->run_forward(ctx, {&ones}, y);
  CHECK(y[6 * 3 + 3] == doctest::Approx(0.f).epsilon(1e-6));
  spec.groups = 2;
  CHECK(error_of([&] { make_conv_unit(Scope{secs[1], &secs[0]}, 3, spec, rng); }) ==
        "u.cfg:4 [head]: conv unit: groups 2 is out of range");
}

namespace {
// A layer that reads ground truth from the Context: the number of boxes of each image.
class CountBoxes : public Layer {
 public:
  std::string type() const override { return "count_boxes"; }
  Shape reshape(const std::vector<Shape>& in) override { return Shape{in.at(0).n, 1, 1, 1}; }
  void forward(Context& ctx, const Inputs& in, Tensor& out) override {
    REQUIRE(ctx.batch);
    for (int i = 0; i < out.n(); ++i) out[i] = float(ctx.batch->targets[i].size());
  }
};
}  // namespace

TEST_CASE("context: ground truth of the sub-batch reaches a layer") {
  Batch b;
  b.images = Tensor(2, 3, 4, 4);
  b.meta.resize(2);
  b.targets.resize(2);
  b.targets[0].boxes = {0, 0, 2, 2};
  b.targets[0].labels = {1};
  b.targets[1].boxes = {0, 0, 1, 1, 1, 1, 3, 3};
  b.targets[1].labels = {0, 2};
  Context ctx;
  ctx.batch = &b;
  CountBoxes l;
  Tensor y;
  l.run_forward(ctx, {&b.images}, y);
  CHECK(y[0] == 1.f);
  CHECK(y[1] == 2.f);
}

TEST_CASE("graph: a whole network runs a batch of zero images forward and backward") {
  Network n = net_from("[net]\nbatch=2\nwidth=6\nheight=6\nchannels=2\nnorm=mabn\nmabn_buffer=2\n"
                       "[convolutional]\nfilters=3\nsize=3\npad=1\nactivation=relu\n[maxpool]\nsize=2\nstride=2\n"
                       "[connected]\noutput=4\n[softmax]\n");
  Context ctx;
  ctx.train = true;
  Tensor x(0, 2, 6, 6);
  IndexTensor labels(0, 1);
  ctx.labels = &labels;
  std::vector<State> st = n.state();
  int64_t t_before = -1;
  for (State& s : st)
    if (s.counter) t_before = *s.counter;
  n.zero_grads();
  const Tensor& y = n.forward(ctx, x);
  CHECK(y.shape() == Shape{0, 4, 1, 1});
  CHECK(n.loss() == 0.0);
  n.backward(ctx);
  for (Param& p : n.params())
    for (size_t i = 0; i < p.grad->size(); ++i) CHECK((*p.grad)[i] == 0.f);
  for (State& s : st)
    if (s.counter) CHECK(*s.counter == t_before);
}
