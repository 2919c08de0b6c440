#include "mabdet/network.h"

#include <algorithm>
#include <cmath>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <new>

#include "layers/factory_util.h"
#include "layers/registry.h"
#include "mabdet/device_choice.h"
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
  // Bounded so that no shape computation downstream overflows int.
  if (c.width < 1 || c.width > kMaxSide) s.fail_key("width", cat("must be in 1..", kMaxSide));
  if (c.height < 1 || c.height > kMaxSide) s.fail_key("height", cat("must be in 1..", kMaxSide));
  if (c.channels < 1 || c.channels > kMaxKey) s.fail_key("channels", cat("must be in 1..", kMaxKey));
  if (c.batch > kMaxKey) s.fail_key("batch", cat("must be in 1..", kMaxKey));
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
  c.freeze_at = s.get_int("freeze_at", 0);
  c.clip_grad_norm = s.get_float("clip_grad_norm", 0.f);
  if (!(c.clip_grad_norm >= 0) || !std::isfinite(c.clip_grad_norm)) s.fail_key("clip_grad_norm", "must be >= 0 (0: no clipping)");
  if (c.freeze_at < 0) s.fail_key("freeze_at", "must be >= 0 (0: nothing frozen, 1: the stem, K: stem and res2..resK)");
  if (c.learning_rate < 0) s.fail_key("learning_rate", "must be >= 0");
  if (c.momentum < 0 || c.momentum >= 1) s.fail_key("momentum", "must be in [0, 1)");
  return c;
}

// Splits "REF" or "REF:PORT".
std::pair<std::string, std::string> split_port(const std::string& ref) {
  size_t colon = ref.find(':');
  if (colon == std::string::npos) return {ref, ""};
  return {ref.substr(0, colon), ref.substr(colon + 1)};
}

std::string port_list(const std::vector<Port>& ports) {
  std::string l;
  for (size_t k = 0; k < ports.size(); ++k)
    l += (l.empty() ? "" : ", ") + (ports[k].name.empty() ? std::string("(main)") : ports[k].name);
  return l;
}
}  // namespace

Network Network::from_file(const std::string& cfg_path) {
  std::vector<Section> sections = parse_cfg(cfg_path);
  if (sections.empty()) fail(cfg_path, ": no sections; a cfg starts with [net]");
  return Network(sections);
}

// A `from=` entry: negative = relative to this layer, non-negative = absolute index, `input` = the
// network input, anything else = a `name=` of an earlier layer; each may end in :PORT.
Network::Ref Network::resolve(const Section& s, const std::string& full, int self) const {
  auto [ref, port] = split_port(full);
  Ref r;
  if (ref == "input") {
    if (!port.empty()) s.fail_key("from", cat("'", full, "': the network input has no ports"));
    return r;
  }
  char* end = nullptr;
  long v = std::strtol(ref.c_str(), &end, 10);
  if (!ref.empty() && !*end) {
    long idx = v < 0 ? self + v : v;
    if (idx < 0 || idx >= self)
      s.fail_key("from", cat("'", full, "' points to layer ", idx, "; a layer can only read layers 0..", self - 1, " or input"));
    r.node = int(idx);
  } else {
    r.node = -1;
    for (int i = self - 1; i >= 0; --i)
      if (nodes_[i].name == ref) {
        r.node = i;
        break;
      }
    if (r.node < 0) s.fail_key("from", cat("no earlier layer has name=", ref));
  }
  const std::vector<Port>& ports = nodes_[r.node].ports;
  size_t k = 0;
  // NAME alone is port 0, whatever that port is called.
  if (!port.empty())
    while (k < ports.size() && ports[k].name != port) ++k;
  if (k == ports.size())
    s.fail_key("from", cat("'", full, "': layer ", r.node, " [", nodes_[r.node].type, "] has no port '", port,
                           "'; its ports: ", port_list(ports)));
  r.kind = ports[k].kind;
  r.grad = ports[k].grad;
  for (size_t j = 0; j < k; ++j) r.slot += ports[j].kind == r.kind;
  return r;
}

// The keys every section takes that concern the graph and training, not the layer itself.
void Network::read_graph_keys(const Section& s, Node& node) {
  const bool has_params = !node.layer->params().empty();
  auto params_only = [&](const char* key) {
    if (s.has(key) && !has_params) s.fail_key(key, cat("[", s.type(), "] has no parameters"));
  };
  for (const char* k : {"lr_mult", "decay_mult", "freeze", "share"}) params_only(k);
  node.lr_mult = s.get_float("lr_mult", 1.f);
  node.decay_mult = s.get_float("decay_mult", 1.f);
  if (node.lr_mult < 0) s.fail_key("lr_mult", "must be >= 0");
  if (node.decay_mult < 0) s.fail_key("decay_mult", "must be >= 0");
  node.frozen = s.get_bool("freeze", false);
  node.loss_weight = s.get_float("loss_weight", 1.f);
  if (s.has("loss_weight") && !node.layer->is_loss()) s.fail_key("loss_weight", cat("[", s.type(), "] is not a loss"));
  if (node.loss_weight < 0) s.fail_key("loss_weight", "must be >= 0");
  // stop_gradient: one 0/1 for every input, or one per from= entry.
  std::vector<int> stop = s.get_ints("stop_gradient", {0});
  if (stop.size() != 1 && stop.size() != node.refs.size())
    s.fail_key("stop_gradient", cat("give one 0/1 or one per from= entry (", node.refs.size(), ")"));
  for (size_t k = 0; k < node.refs.size(); ++k) {
    int v = stop[stop.size() == 1 ? 0 : k];
    if (v != 0 && v != 1) s.fail_key("stop_gradient", "values must be 0 or 1");
    if (v) node.refs[k].grad = false;
  }
  share_params(s, node);
}

// share=NAME: this layer computes with NAME's parameters (one storage, gradients summed from every
// use). Norm statistics stay per layer unless share_stats=1, which only norms without counters
// allow: MABN and BRN count their own forwards.
void Network::share_params(const Section& s, Node& node) {
  const std::string owner = s.get_str("share", "");
  const bool stats = s.get_bool("share_stats", false);
  if (owner.empty()) {
    if (s.has("share_stats")) s.fail_key("share_stats", "only with share=");
    return;
  }
  const Node* o = nullptr;
  for (const Node& n : nodes_)
    if (n.name == owner) o = &n;
  if (!o) s.fail_key("share", cat("no earlier layer has name=", owner));
  if (!o->shares.empty()) s.fail_key("share", cat(owner, " itself shares ", o->shares, "; share ", o->shares));
  if (o->type != node.type) s.fail_key("share", cat(owner, " is [", o->type, "], this is [", node.type, "]"));
  std::vector<Param> mine = node.layer->params(), theirs = o->layer->params();
  auto mismatch = [&](const std::string& what) {
    s.fail_key("share", cat(owner, " (cfg line ", o->line, ") differs: ", what, "; shared layers need the same keys"));
  };
  if (mine.size() != theirs.size()) mismatch(cat(theirs.size(), " params vs ", mine.size()));
  for (size_t k = 0; k < mine.size(); ++k)
    if (mine[k].name != theirs[k].name || mine[k].value->shape() != theirs[k].value->shape())
      mismatch(cat("'", theirs[k].name, "' ", theirs[k].value->shape().str(), " vs '", mine[k].name, "' ",
                   mine[k].value->shape().str()));
  if (stats) {
    std::vector<State> ms = node.layer->state(), ts = o->layer->state();
    if (ms.size() != ts.size()) mismatch("state");
    for (size_t k = 0; k < ms.size(); ++k) {
      if (ms[k].counter || ts[k].counter)
        s.fail_key("share_stats", cat("'", ms[k].name, "' counts this layer's own forwards; this norm keeps per-layer statistics (share_stats=0)"));
      if (ms[k].name != ts[k].name || ms[k].tensor->shape() != ts[k].tensor->shape()) mismatch(cat("'", ts[k].name, "'"));
    }
  }
  node.share_stats = stats;
  link_shared(node, *o);
  node.shares = owner;
}

double Network::synced_now() const {
  device_sync(device_);
  return now_s();
}

void Network::link_shared(Node& node, const Node& owner) {
  std::vector<Param> mine = node.layer->params(), theirs = owner.layer->params();
  for (size_t k = 0; k < mine.size(); ++k) {
    mine[k].value->share_storage_of(*theirs[k].value);
    mine[k].grad->share_storage_of(*theirs[k].grad);
  }
  if (!node.share_stats) return;
  std::vector<State> ms = node.layer->state(), ts = owner.layer->state();
  for (size_t k = 0; k < ms.size(); ++k) ms[k].tensor->share_storage_of(*ts[k].tensor);
}

void Network::to(Device d) {
  if (d == device_) return;
  for (size_t i = 0; i < nodes_.size(); ++i) {
    Node& n = nodes_[i];
    try {
      n.layer->to(d);
    } catch (const Error& e) {
      fail("layer ", i, " [", n.type, "] (cfg line ", n.line, "): ", e.what());
    }
    for (Tensor& t : n.fout) t.to(d);
    for (Tensor& t : n.fgrad) t.to(d);
    for (IndexTensor& t : n.iout) t.to(d);
  }
  for (Node& n : nodes_)
    if (!n.shares.empty())
      for (const Node& o : nodes_)
        if (o.name == n.shares) link_shared(n, o);
  pool_.clear();
  grad_pool_.clear();
  device_ = d;
}

// Detectron2's FREEZE_AT over a flat cfg: the stage ends are the layers named stem, res2, res3, ...
void Network::apply_freeze_at(const Section& net) {
  if (cfg_.freeze_at == 0) return;
  const std::string last = cfg_.freeze_at == 1 ? "stem" : cat("res", cfg_.freeze_at);
  size_t end = nodes_.size();
  for (size_t i = 0; i < nodes_.size(); ++i)
    if (nodes_[i].name == last) end = i;
  if (end == nodes_.size())
    net.fail_key("freeze_at", cat("needs a layer named ", last, " (the end of that stage); name=stem, res2, res3, ... mark stage ends"));
  for (size_t i = 0; i <= end; ++i) nodes_[i].frozen = true;
}

Network::Network(const std::vector<Section>& sections) {
  if (sections.empty() || sections.front().type() != "net") {
    if (sections.empty()) fail("cfg has no sections; it must start with [net]");
    sections.front().fail_section("the first section must be [net]");
  }
  const Section& net = sections.front();
  cfg_ = read_net(net);
  Rng rng(cfg_.seed);
  std::vector<std::vector<Shape>> shapes;  // build-time Float port shapes, for the factories
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
    for (const Node& n : nodes_)
      if (!node.name.empty() && n.name == node.name) s.fail_key("name", "used by an earlier layer");
    for (const std::string& ref : s.get_strs("from", {"-1"})) {
      if (self == 0 && ref == "-1") node.refs.push_back(Ref{});
      else node.refs.push_back(resolve(s, ref, self));
    }
    if (type->implicit_previous && s.has("from")) node.refs.insert(node.refs.begin(), resolve(s, "-1", self));
    std::vector<Shape> in;
    for (const Ref& r : node.refs)
      if (r.kind == Kind::Float) in.push_back(r.node < 0 ? input : shapes[r.node][r.slot]);
    int n_in = int(in.size());
    if (n_in < type->min_inputs || (type->max_inputs >= 0 && n_in > type->max_inputs))
      s.fail_key("from", cat("[", s.type(), "] takes ", type->min_inputs,
                             type->max_inputs < 0 ? " or more" : cat(" to ", type->max_inputs), " inputs, got ", n_in));
    int n_index = int(node.refs.size()) - n_in;
    if (n_index != type->index_inputs)
      s.fail_key("from", cat("[", s.type(), "] takes ", type->index_inputs, " Index inputs (a NAME:PORT of an Index port), got ", n_index));
    // Allocation failures (too many values, out of memory) name this section and the shape.
    std::vector<Shape> out;
    try {
      node.layer = type->make(Scope{s, &net}, in, rng);
      node.ports = node.layer->ports();
      MABDET_ASSERT(!node.ports.empty() && node.ports[0].kind == Kind::Float, node.type, ": port 0 must be Float");
      read_graph_keys(s, node);
      s.check_unused();
      try {
        out.push_back(node.layer->reshape(in));
      } catch (const Error& e) {
        s.fail_section(e.what());
      }
      for (const Port& p : node.ports) {
        if (p.kind == Kind::Index) {
          node.iout.emplace_back();
          continue;
        }
        if (node.fout.size() > 0) out.push_back(node.layer->port_shape(node.fout.size()));
        node.fout.emplace_back(out.back());
        node.fgrad.emplace_back();
        node.last_reader.push_back(-1);
        node.pooled.push_back(0);
        node.unread_back.push_back(0);
        node.grad_live.push_back(0);
      }
    } catch (const AllocError& e) {
      s.fail_section(e.what());
    } catch (const std::bad_alloc&) {
      s.fail_section(cat("out of memory building this layer (inputs ", in.empty() ? "none" : in[0].str(), ")"));
    }
    shapes.push_back(std::move(out));
    for (const Ref& r : node.refs)
      if (r.kind == Kind::Float && r.node >= 0) nodes_[r.node].last_reader[r.slot] = self;
    nodes_.push_back(std::move(node));
  }
  if (nodes_.empty()) net.fail_section("the cfg has no layers after [net]");
  apply_freeze_at(net);
  // Norm settings in [net] may stay unused when no layer picked that norm, so that switching
  // norm= is a one-key change; they are reported, never silently dropped. Other keys must be read.
  for (const std::string& k : net.check_unused("", {"norm_", "mabn_", "brn_", "gn_"}))
    std::fprintf(stderr, "%s: warning: [net] %s is not used by any layer (no layer has that norm)\n",
                 net.file().c_str(), k.c_str());
  for (Node& n : nodes_) {
    bool trains = !n.frozen && !n.layer->params().empty();
    for (const Ref& r : n.refs)
      trains = trains || (r.grad && r.kind == Kind::Float && r.node >= 0 && nodes_[r.node].needs_grad);
    n.needs_grad = trains;
  }
  in_shape_ = input;
}

std::vector<int> Network::inputs(size_t i) const {
  std::vector<int> v;
  for (const Ref& r : nodes_[i].refs) v.push_back(r.node);
  return v;
}

// The slot of port `port` among node n's ports of `kind`; fails naming the ports there are.
static size_t port_slot(size_t i, const std::string& type, const std::vector<Port>& ports, const std::string& port,
                        Kind kind) {
  size_t slot = 0;
  if (port.empty() && kind == Kind::Float) return 0;  // port 0
  for (const Port& p : ports) {
    if (p.name == port && p.kind == kind) return slot;
    slot += p.kind == kind;
  }
  fail("layer ", i, " [", type, "] has no ", kind == Kind::Float ? "Float" : "Index", " port '", port,
       "'; its ports: ", port_list(ports));
}

const Tensor& Network::output(size_t i, const std::string& port) const {
  const Node& n = nodes_.at(i);
  const size_t slot = port_slot(i, n.type, n.ports, port, Kind::Float);
  check_held(i, slot);
  return n.fout[slot];
}

const Tensor& Network::output(size_t i) const {
  check_held(i, 0);
  return nodes_[i].fout[0];
}

void Network::check_held(size_t i, size_t slot) const {
  MABDET_ASSERT(!nodes_.at(i).pooled[slot], "layer ", i, " [", nodes_[i].type,
                "]: its output went back to the pool in a lean-memory forward; keep it (set_lean_memory)");
}

// Turning it on also frees the outputs a forward could pool (the network's build sized every
// output, and the first forward would otherwise write into each of them): the first forward then
// allocates only what is live at once, and later ones reuse that.
void Network::set_lean_memory(bool on, const std::vector<size_t>& keep) {
  lean_ = on;
  for (Node& n : nodes_) n.keep = false;
  for (size_t i : keep) nodes_.at(i).keep = true;
  // An output no backward reads: its own layer's backward does not (or does not run) and none
  // of its readers' does.
  for (Node& n : nodes_)
    for (size_t k = 0; k < n.fout.size(); ++k)
      n.unread_back[k] = !(n.needs_grad && n.layer->backward_reads_output());
  for (const Node& j : nodes_)
    for (const Ref& r : j.refs)
      if (r.kind == Kind::Float && r.node >= 0 && j.needs_grad && j.layer->backward_reads_inputs())
        nodes_[r.node].unread_back[r.slot] = 0;
  if (!on) return;
  for (Node& n : nodes_)
    for (size_t k = 0; k < n.fout.size(); ++k)
      if (releasable(n, k, false) && !n.pooled[k]) {
        n.fout[k].take_storage();  // dropped
        n.pooled[k] = 1;
      }
}

// Whether a lean forward hands this output to the pool: not kept, its node read by some layer (a
// node none of whose outputs is read is a result of the network) and, in training, read by no
// backward.
bool Network::releasable(const Node& n, size_t port, bool train) const {
  return !n.keep && std::any_of(n.last_reader.begin(), n.last_reader.end(), [](int j) { return j >= 0; }) &&
         (!train || n.unread_back[port]);
}

void Network::to_pool(Node& n, size_t port) {
  if (n.pooled[port]) return;  // a layer that reads the same output twice
  pool_.push_back(n.fout[port].take_storage());
  n.pooled[port] = 1;
}

// A tensor of shape s from `pool`: the smallest pooled one that holds s (with `snug`, only one at
// most twice its size); else the largest one too small, which reshape() grows, so that the pool
// does not fill with small ones; else a fresh one. Outputs take snug ones: many are held at once,
// and a bottleneck's narrow convs taking its wide convs' 4x buffers left the next wide output
// without storage (most of what pooling saves, lost). Gradients are few at once: one buffer per
// gradient in flight, grown to the largest, is the least memory.
static Tensor take_from(std::vector<Tensor>& pool, const Shape& s, bool snug, Device d) {
  const size_t want = s.size();
  size_t fit = pool.size(), small = pool.size();
  for (size_t j = 0; j < pool.size(); ++j) {
    const size_t c = pool[j].capacity();
    const bool fits = c >= want && (!snug || c <= 2 * want + 1024);
    if (fits && (fit == pool.size() || c < pool[fit].capacity())) fit = j;
    if (c < want && (small == pool.size() || c > pool[small].capacity())) small = j;
  }
  const size_t j = fit < pool.size() ? fit : small;
  Tensor t(Shape{}, d);
  if (j < pool.size()) {
    t = std::move(pool[j]);
    pool[j] = std::move(pool.back());
    pool.pop_back();
  }
  t.reshape(s);
  return t;
}

void Network::from_pool(Node& n, size_t port, const Shape& s) {
  if (!n.pooled[port]) return;
  n.pooled[port] = 0;
  n.fout[port] = take_from(pool_, s, true, device_);
}

const IndexTensor& Network::index_output(size_t i, const std::string& port) const {
  const Node& n = nodes_.at(i);
  return n.iout[port_slot(i, n.type, n.ports, port, Kind::Index)];
}

void Network::gather(const Node& n, Inputs& in) const {
  in.clear();
  for (const Ref& r : n.refs) {
    if (r.kind == Kind::Float) in.push_back(&float_in(r));
    else in.index.push_back(&nodes_[r.node].iout[r.slot]);
  }
}

Outputs Network::outputs_of(Node& n) {
  Outputs o;
  for (Tensor& t : n.fout) o.f.push_back(&t);
  for (IndexTensor& t : n.iout) o.index.push_back(&t);
  return o;
}

const Tensor& Network::forward(Context& ctx, const Tensor& input) {
  if (input.device() != device_ || ctx.device != device_)
    fail("the network is on ", device_name(device_), ", its input on ", device_name(input.device()), " and the context on ",
         device_name(ctx.device));
  in_shape_ = input.shape();
  input_ = &input;
  const float base_scale = ctx.loss_scale;
  const bool forward_only = lean_ && !ctx.train;
  const bool was_forward_only = ctx.forward_only;
  ctx.forward_only = was_forward_only || forward_only;
  // Every output this forward rewrites is free storage until its layer runs: into the pool, so
  // that a pass holds at most what is live at once, not what the last pass left where.
  if (lean_)
    for (Node& n : nodes_)
      for (size_t k = 0; k < n.fout.size(); ++k)
        if (releasable(n, k, false)) to_pool(n, k);
  Inputs in;
  for (size_t i = 0; i < nodes_.size(); ++i) {
    Node& n = nodes_[i];
    gather(n, in);
    double t0 = profiling_ ? synced_now() : 0;
    ctx.loss_scale = base_scale * n.loss_weight;
    try {
      // Storage for pooled outputs by the size this forward gives them (port 0's is known now;
      // the others' layers size them as they go, from their last shape).
      if (n.pooled[0]) from_pool(n, 0, n.layer->shape_for(in.shapes()));
      for (size_t k = 1; k < n.fout.size(); ++k) from_pool(n, k, n.fout[k].shape());
      n.layer->run_forward(ctx, in, outputs_of(n));
    } catch (const Error& e) {
      ctx.loss_scale = base_scale;
      ctx.forward_only = was_forward_only;
      fail("layer ", i, " [", n.type, "] (cfg line ", n.line, "): ", e.what());
    } catch (const std::bad_alloc&) {
      ctx.loss_scale = base_scale;
      ctx.forward_only = was_forward_only;
      fail("layer ", i, " [", n.type, "] (cfg line ", n.line, "): out of memory (input ", input.shape().str(), ")");
    }
    ctx.loss_scale = base_scale;
    if (profiling_) fwd_s_[i] += synced_now() - t0;
    if (lean_) release_after(i, ctx.train);
  }
  ctx.forward_only = was_forward_only;
  released_ = forward_only;
  if (!lean_) pool_.clear();
  return nodes_.back().fout[0];
}

// Once node i has run, its inputs that no later node reads and its own outputs that none reads
// go to the pool, where releasable.
void Network::release_after(size_t i, bool train) {
  Node& n = nodes_[i];
  for (const Ref& r : n.refs)
    if (r.kind == Kind::Float && r.node >= 0 && nodes_[r.node].last_reader[r.slot] == int(i) &&
        releasable(nodes_[r.node], r.slot, train))
      to_pool(nodes_[r.node], r.slot);
  for (size_t k = 0; k < n.fout.size(); ++k)
    if (n.last_reader[k] < 0 && releasable(n, k, train)) to_pool(n, k);
}

void Network::drop_param_grads() {
  for (Node& n : nodes_)
    for (Param& p : n.layer->params())
      if (!p.grad->is_view() && p.grad->capacity()) p.grad->take_storage();
  grads_dropped_ = true;
}

void Network::backward(Context& ctx, const std::function<void(size_t node)>& after_node) {
  if (grads_dropped_) {
    for (Node& n : nodes_)
      for (Param& p : n.layer->params())
        if (p.grad->capacity() < p.grad->size()) {
          p.grad->reshape(p.grad->shape());  // allocates
          p.grad->zero();
        }
    grads_dropped_ = false;
  }
  MABDET_ASSERT(input_, "backward before forward");
  MABDET_ASSERT(!released_, "backward after a forward-only (lean inference) forward or a second lean-memory backward of one "
                            "forward: the activations are gone");
  // A gradient lives from the backward of the first node (in backward's order) that adds into it
  // to the backward of its own node, and then goes back to grad_pool_ for the next one: backward
  // holds the gradients in flight, not one per output. Zeroed when taken, since layers add.
  // Lean memory: the outputs' free storage (pool_) is what gradients take first, and once node i's
  // backward is done its own outputs are dead (every reader comes later in the forward, so its
  // backward ran already): they join the pool as torch frees saved tensors, and backward's peak
  // is no longer every activation plus every gradient buffer.
  if (lean_) {
    for (Tensor& t : pool_) grad_pool_.push_back(std::move(t));
    pool_.clear();
  }
  // zero = false: the caller's layer writes the gradient (writes_fresh_grads), so the zeroing of
  // a gradient taken here is skipped.
  auto live = [this](Node& n, size_t k, bool zero = true) -> Tensor& {
    if (!n.grad_live[k]) {
      n.fgrad[k] = take_from(grad_pool_, n.fout[k].shape(), false, device_);
      if (zero) n.fgrad[k].zero();
      n.grad_live[k] = 1;
    }
    return n.fgrad[k];
  };
  for (size_t i : sum_outputs_) live(nodes_[i], 0).fill(ctx.loss_scale);
  const float base_scale = ctx.loss_scale;
  Inputs in;
  InputGrads din;
  std::vector<const Tensor*> dout;
  for (size_t i = nodes_.size(); i-- > 0;) {
    Node& n = nodes_[i];
    if (!n.needs_grad) continue;
    gather(n, in);
    din.clear();
    din.fresh_at.clear();
    const bool writes = n.layer->writes_fresh_grads();
    for (const Ref& r : n.refs) {
      if (r.kind != Kind::Float) continue;
      if (!(r.grad && r.node >= 0 && nodes_[r.node].needs_grad)) {
        din.push_back(nullptr);
        din.fresh_at.push_back(0);
        continue;
      }
      Node& src = nodes_[r.node];
      // Fresh: taken now, for a layer that writes it, and read by this layer once only (a second
      // use of the same input would then have to know which of its writes came first).
      const bool fresh = writes && !src.grad_live[r.slot] &&
                         std::count_if(n.refs.begin(), n.refs.end(), [&](const Ref& o) {
                           return o.kind == Kind::Float && o.node == r.node && o.slot == r.slot;
                         }) == 1;
      din.push_back(&live(src, r.slot, !fresh));
      din.fresh_at.push_back(fresh);
    }
    dout.clear();
    for (size_t k = 0; k < n.fgrad.size(); ++k) dout.push_back(&live(n, k));
    double t0 = profiling_ ? synced_now() : 0;
    ctx.loss_scale = base_scale * n.loss_weight;
    n.layer->run_backward(ctx, in, outputs_of(n), dout, din);
    ctx.loss_scale = base_scale;
    if (profiling_) bwd_s_[i] += synced_now() - t0;
    for (size_t k = 0; k < n.fgrad.size(); ++k) {
      grad_pool_.push_back(std::move(n.fgrad[k]));
      n.grad_live[k] = 0;
      if (lean_ && releasable(n, k, false) && !n.pooled[k]) {
        grad_pool_.push_back(n.fout[k].take_storage());
        n.pooled[k] = 1;
      }
    }
    if (after_node) after_node(i);
  }
  if (lean_) {  // the next forward's outputs take it back
    for (Tensor& t : grad_pool_) pool_.push_back(std::move(t));
    grad_pool_.clear();
    released_ = true;
  }
}

void Network::set_sum_outputs(std::vector<size_t> nodes) {
  for (size_t i : nodes)
    MABDET_ASSERT(i < nodes_.size() && nodes_[i].needs_grad, "set_sum_outputs: node ", i, " is not one that trains");
  sum_outputs_ = std::move(nodes);
}

void Network::set_profiling(bool on) {
  profiling_ = on;
  fwd_s_.assign(nodes_.size(), 0.0);
  bwd_s_.assign(nodes_.size(), 0.0);
}

std::vector<LossTerm> Network::loss_terms() const {
  std::vector<LossTerm> terms;
  for (const Node& n : nodes_)
    for (LossTerm t : n.layer->loss_terms()) {
      // A single-loss layer's term is named after its type; its name= names it better.
      if (t.name == n.type && !n.name.empty()) t.name = n.name;
      auto it = std::find_if(terms.begin(), terms.end(), [&](const LossTerm& x) { return x.name == t.name; });
      if (it == terms.end()) terms.push_back(t);
      else it->value += t.value;
    }
  return terms;
}

double Network::loss() const {
  double l = 0;
  for (const LossTerm& t : loss_terms()) l += t.value;
  return l;
}

void Network::zero_grads() {
  for (size_t i = 0; i < nodes_.size(); ++i)
    for (Param& p : saved_params(i))
      if (p.grad->capacity() >= p.grad->size()) p.grad->zero();  // dropped ones are allocated zeroed
}

std::vector<Param> Network::saved_params(size_t i) {
  std::vector<Param> own;
  for (Param& p : nodes_[i].layer->params())
    if (!p.value->is_view()) own.push_back(p);
  return own;
}

std::vector<State> Network::saved_state(size_t i) {
  std::vector<State> own;
  for (State& s : nodes_[i].layer->state())
    if (!s.tensor || !s.tensor->is_view()) own.push_back(s);
  return own;
}

std::vector<Param> Network::params() {
  std::vector<Param> all;
  for (size_t i = 0; i < nodes_.size(); ++i) {
    if (nodes_[i].frozen) continue;
    for (Param& p : saved_params(i)) {
      p.lr_mult *= nodes_[i].lr_mult;
      p.decay_mult *= nodes_[i].decay_mult;
      all.push_back(p);
    }
  }
  return all;
}

std::vector<size_t> Network::params_final_node() {
  std::vector<size_t> at;
  for (size_t i = 0; i < nodes_.size(); ++i) {
    if (nodes_[i].frozen) continue;
    size_t last = i;  // backward runs down the nodes: the lowest user finishes the gradient
    for (size_t j = 0; j < nodes_.size(); ++j)
      if (nodes_[j].shares == nodes_[i].name && !nodes_[i].name.empty()) last = std::min(last, j);
    at.insert(at.end(), saved_params(i).size(), last);
  }
  return at;
}

std::vector<State> Network::state() {
  std::vector<State> all;
  for (size_t i = 0; i < nodes_.size(); ++i)
    for (State& s : saved_state(i)) all.push_back(s);
  return all;
}

void Network::print_table(std::FILE* f) const {
  std::fprintf(f, "layer  type             filters  size        input               ->  output\n");
  for (size_t i = 0; i < nodes_.size(); ++i) {
    const Node& n = nodes_[i];
    std::string ins;
    for (const Ref& r : n.refs) {
      if (r.kind == Kind::Index) {
        ins += (ins.empty() ? "" : " + ") + cat("#", r.node);
        continue;
      }
      const Shape& s = r.node < 0 ? in_shape_ : nodes_[r.node].fout[r.slot].shape();
      ins += (ins.empty() ? "" : " + ") + cat(s.w, "x", s.h, "x", s.c);
    }
    const Shape& o = n.fout[0].shape();
    std::string type = n.type;
    if (!n.shares.empty()) type += "=" + n.shares;
    if (n.frozen) type += "*";
    std::fprintf(f, "%5zu  %-15s  %7s  %-10s  %-18s  ->  %dx%dx%d\n", i, type.c_str(), n.layer->filters_str().c_str(),
                 n.layer->size_str().c_str(), ins.c_str(), o.w, o.h, o.c);
  }
}

}  // namespace mabdet
