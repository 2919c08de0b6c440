#include "mabdet/network.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "layers/registry.h"
#include "mabdet/ops.h"

namespace mabdet {
namespace {
double now_s() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

NetConfig read_net(const Section& s) {
  NetConfig c;
  c.batch = s.get_int("batch", 1);
  c.subdivisions = s.get_int("subdivisions", 1);
  if (c.batch < 1) s.fail_key("batch", "must be >= 1");
  if (c.subdivisions < 1 || c.batch % c.subdivisions) s.fail_key("subdivisions", cat("must divide batch=", c.batch));
  c.width = s.get_int("width");
  c.height = s.get_int("height");
  c.channels = s.get_int("channels", 3);
  if (c.width < 1) s.fail_key("width", "must be >= 1");
  if (c.height < 1) s.fail_key("height", "must be >= 1");
  if (c.channels < 1) s.fail_key("channels", "must be >= 1");
  c.learning_rate = s.get_float("learning_rate", c.learning_rate);
  c.momentum = s.get_float("momentum", c.momentum);
  c.decay = s.get_float("decay", c.decay);
  c.burn_in = s.get_int("burn_in", 0);
  c.power = s.get_float("power", c.power);
  c.policy = s.get_choice("policy", "constant", {"constant", "steps"});
  if (c.policy == "steps") {
    c.steps = s.get_ints("steps", {});
    c.scales = s.get_floats("scales", {});
    if (c.steps.size() != c.scales.size()) s.fail_key("scales", cat("needs one value per entry of steps (", c.steps.size(), ")"));
    if (!std::is_sorted(c.steps.begin(), c.steps.end())) s.fail_key("steps", "must be increasing");
  }
  c.max_batches = s.get_int("max_batches", 0);
  int seed = s.get_int("seed", 1);
  c.seed = uint64_t(seed);
  if (c.learning_rate < 0) s.fail_key("learning_rate", "must be >= 0");
  if (c.momentum < 0 || c.momentum >= 1) s.fail_key("momentum", "must be in [0, 1)");
  return c;
}

// A `from=` entry: negative = relative to this layer, non-negative = absolute index, `input` = the
// network input, anything else = a `name=` of an earlier layer.
int resolve_ref(const Section& s, const std::string& ref, int self, const std::vector<std::string>& names) {
  if (ref == "input") return -1;
  char* end = nullptr;
  long v = std::strtol(ref.c_str(), &end, 10);
  if (!ref.empty() && !*end) {
    long idx = v < 0 ? self + v : v;
    if (idx < 0 || idx >= self)
      s.fail_key("from", cat("'", ref, "' points to layer ", idx, "; a layer can only read layers 0..", self - 1, " or input"));
    return int(idx);
  }
  for (int i = self - 1; i >= 0; --i)
    if (names[i] == ref) return i;
  s.fail_key("from", cat("no earlier layer has name=", ref));
}
}  // namespace

Network Network::from_file(const std::string& cfg_path) {
  std::vector<Section> sections = parse_cfg(cfg_path);
  if (sections.empty()) fail(cfg_path, ": no sections; a cfg starts with [net]");
  return Network(sections);
}

Network::Network(const std::vector<Section>& sections) {
  if (sections.empty() || sections.front().type() != "net") {
    if (sections.empty()) fail("cfg has no sections; it must start with [net]");
    sections.front().fail_section("the first section must be [net]");
  }
  const Section& net = sections.front();
  cfg_ = read_net(net);
  Rng rng(cfg_.seed);
  std::vector<std::string> names;
  std::vector<Shape> shapes;  // build-time output shapes, for the factories
  const Shape input{cfg_.sub_batch(), cfg_.channels, cfg_.height, cfg_.width};
  for (size_t k = 1; k < sections.size(); ++k) {
    const Section& s = sections[k];
    const int self = int(k - 1);
    const LayerType* type = find_layer_type(s.type());
    if (!type) {
      std::string list;
      for (const LayerType& t : layer_types()) list += (list.empty() ? "" : ", ") + std::string(t.name);
      s.fail_section(cat("unknown section type; allowed: [net] first, then ", list));
    }
    Node node;
    node.type = s.type();
    node.line = s.line();
    node.name = s.get_str("name", "");
    for (const std::string& n : names)
      if (!node.name.empty() && n == node.name) s.fail_key("name", "used by an earlier layer");
    for (const std::string& ref : s.get_strs("from", {"-1"})) {
      if (self == 0 && ref == "-1") node.inputs.push_back(-1);
      else node.inputs.push_back(resolve_ref(s, ref, self, names));
    }
    if (type->implicit_previous && s.has("from")) node.inputs.insert(node.inputs.begin(), self - 1);
    int n_in = int(node.inputs.size());
    if (n_in < type->min_inputs || (type->max_inputs >= 0 && n_in > type->max_inputs))
      s.fail_key("from", cat("[", s.type(), "] takes ", type->min_inputs,
                             type->max_inputs < 0 ? " or more" : cat(" to ", type->max_inputs), " inputs, got ", n_in));
    std::vector<Shape> in;
    for (int i : node.inputs) in.push_back(i < 0 ? input : shapes[i]);
    node.layer = type->make(Scope{s, &net}, in, rng);
    s.check_unused();
    try {
      shapes.push_back(node.layer->reshape(in));
    } catch (const Error& e) {
      s.fail_section(e.what());
    }
    names.push_back(node.name);
    nodes_.push_back(std::move(node));
  }
  if (nodes_.empty()) net.fail_section("the cfg has no layers after [net]");
  // Norm settings in [net] may stay unused when no layer picked that norm, so that switching
  // norm= is a one-key change; they are reported, never silently dropped. Other keys must be read.
  for (const std::string& k : net.check_unused("", {"norm_", "mabn_", "brn_", "gn_"}))
    std::fprintf(stderr, "%s: warning: [net] %s is not used by any layer (no layer has that norm)\n",
                 net.file().c_str(), k.c_str());
  reshape(input);
}

void Network::reshape(const Shape& in) {
  in_shape_ = in;
  for (size_t i = 0; i < nodes_.size(); ++i) {
    Node& n = nodes_[i];
    std::vector<Shape> shapes;
    for (int j : n.inputs) shapes.push_back(j < 0 ? in : nodes_[j].out.shape());
    Shape out;
    try {
      out = n.layer->reshape(shapes);
    } catch (const Error& e) {
      fail("layer ", i, " [", n.type, "] (cfg line ", n.line, "): ", e.what());
    }
    n.out.reshape(out);
    n.dout.reshape(out);
  }
}

const Tensor& Network::forward(Context& ctx, const Tensor& input) {
  if (input.shape() != in_shape_) reshape(input.shape());
  input_ = &input;
  Inputs in;
  for (size_t i = 0; i < nodes_.size(); ++i) {
    Node& n = nodes_[i];
    in.clear();
    for (int j : n.inputs) in.push_back(&input_of(j));
    double t0 = profiling_ ? now_s() : 0;
    n.layer->forward(ctx, in, n.out);
    if (profiling_) fwd_s_[i] += now_s() - t0;
  }
  return nodes_.back().out;
}

void Network::backward(Context& ctx) {
  MABDET_ASSERT(input_, "backward before forward");
  for (Node& n : nodes_) n.dout.zero();
  Inputs in;
  InputGrads din;
  for (size_t i = nodes_.size(); i-- > 0;) {
    Node& n = nodes_[i];
    in.clear();
    din.clear();
    for (int j : n.inputs) {
      in.push_back(&input_of(j));
      din.push_back(j < 0 ? nullptr : &nodes_[j].dout);
    }
    double t0 = profiling_ ? now_s() : 0;
    n.layer->backward(ctx, in, n.out, n.dout, din);
    if (profiling_) bwd_s_[i] += now_s() - t0;
  }
}

void Network::set_profiling(bool on) {
  profiling_ = on;
  fwd_s_.assign(nodes_.size(), 0.0);
  bwd_s_.assign(nodes_.size(), 0.0);
}

double Network::loss() const {
  double l = 0;
  for (const Node& n : nodes_)
    if (n.layer->is_loss()) l += n.layer->loss();
  return l;
}

void Network::zero_grads() {
  for (Param& p : params()) p.grad->zero();
}

std::vector<Param> Network::params() {
  std::vector<Param> all;
  for (Node& n : nodes_)
    for (Param& p : n.layer->params()) all.push_back(p);
  return all;
}

std::vector<State> Network::state() {
  std::vector<State> all;
  for (Node& n : nodes_)
    for (State& s : n.layer->state()) all.push_back(s);
  return all;
}

void Network::print_table(std::FILE* f) const {
  std::fprintf(f, "layer  type             filters  size        input               ->  output\n");
  for (size_t i = 0; i < nodes_.size(); ++i) {
    const Node& n = nodes_[i];
    std::string ins;
    for (int j : n.inputs) {
      const Shape& s = j < 0 ? in_shape_ : nodes_[j].out.shape();
      ins += (ins.empty() ? "" : " + ") + cat(s.w, "x", s.h, "x", s.c);
    }
    const Shape& o = n.out.shape();
    std::fprintf(f, "%5zu  %-15s  %7s  %-10s  %-18s  ->  %dx%dx%d\n", i, n.type.c_str(), n.layer->filters_str().c_str(),
                 n.layer->size_str().c_str(), ins.c_str(), o.w, o.h, o.c);
  }
}

}  // namespace mabdet
