// Network: the layers of a cfg file in order, a graph in which each layer reads earlier outputs
// (`from=`, a port of a multi-output layer as NAME:PORT). The [net] section carries the input
// geometry and the training hyper-parameters (NetConfig). Keys every section takes, read here:
// name, from, stop_gradient, share, share_stats, lr_mult, decay_mult, freeze, loss_weight
// (docs/layers.md).
#pragma once
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "mabdet/cfg.h"
#include "mabdet/context.h"
#include "mabdet/layer.h"

namespace mabdet {

struct NetConfig {
  int batch = 1;          // images per optimizer step
  int subdivisions = 1;   // the step runs batch/subdivisions images at a time (gradients add up)
  int width = 0, height = 0, channels = 3;
  float learning_rate = 0.01f, momentum = 0.9f, decay = 1e-4f;
  int burn_in = 0;        // lr ramps up as (step/burn_in)^power over the first burn_in steps
  float power = 4.f;
  std::string policy = "constant";  // constant | steps
  std::vector<int> steps;           // policy=steps: lr *= scales[i] once step >= steps[i]
  std::vector<float> scales;
  int max_batches = 0;    // optimizer steps to train
  uint64_t seed = 1;      // weight init and data order
  int freeze_at = 0;
  // Detectron2's CLIP_GRADIENTS (norm type): the step's gradients, all params as one vector, are
  // scaled down to this L2 norm when larger; 0 = off.
  float clip_grad_norm = 0.f;      // Detectron2's FREEZE_AT: 1 freezes through layer `stem`, K >= 2 through `resK`
  int sub_batch() const { return batch / subdivisions; }
};

class Network {
 public:
  explicit Network(const std::vector<Section>& sections);
  static Network from_file(const std::string& cfg_path);

  const NetConfig& config() const { return cfg_; }
  size_t size() const { return nodes_.size(); }
  Layer& layer(size_t i) { return *nodes_[i].layer; }
  const std::string& name(size_t i) const { return nodes_[i].name; }
  const Tensor& output(size_t i) const;  // port 0 of layer i
  const Tensor& output() const { return output(nodes_.size() - 1); }
  // A Float or Index port of layer i by name ("" = port 0); fails if there is none of that kind.
  const Tensor& output(size_t i, const std::string& port) const;
  const IndexTensor& index_output(size_t i, const std::string& port) const;
  // Layer index of each input (-1: the network input), in `from=` order.
  std::vector<int> inputs(size_t i) const;
  // Whether layer i has parameters that train (not frozen) or reads a layer that has.
  bool needs_grad(size_t i) const { return nodes_[i].needs_grad; }

  // Runs every layer on `input` (N, C, H, W); each layer learns its input shapes as it goes.
  const Tensor& forward(Context& ctx, const Tensor& input);
  // Lean memory: a forward hands each Float output back to a pool once nothing will read it again,
  // and later layers take their outputs from that pool. At inference (ctx.train false) that is
  // right after its last reader's forward, and the forward is forward-only: its layers see
  // ctx.forward_only and keep nothing for a backward, and backward() fails after it. In training
  // it is the same for the outputs no backward reads (Layer::backward_reads_*: a linear conv's
  // output once the residual add has read it); their shapes stay. Backward then frees each
  // layer's outputs once its own backward is done (a second backward() of one forward fails).
  // The outputs of the layers in
  // `keep` and of layers nothing reads survive every forward; output() of any other layer fails
  // after a forward that freed it. Turning it on frees the outputs the build sized. Off by
  // default, so that every output stays readable.
  void set_lean_memory(bool on, const std::vector<size_t>& keep = {});
  // Frees every parameter gradient (an inference-only caller: detect, map): they are training
  // buffers. A later backward() allocates them again, zeroed.
  void drop_param_grads();
  // Backpropagates from the loss layers of the last forward, adding into every param grad;
  // layers that nothing trainable depends on are skipped.
  // after_node(i), when given, runs once node i's backward is done (in backward's order, last
  // node first): what lets a reducer start summing finished gradients while backward goes on.
  void backward(Context& ctx, const std::function<void(size_t node)>& after_node = nullptr);
  // Adds the sum of these nodes' port-0 values to what backward() differentiates (each value's
  // gradient starts at ctx.loss_scale): how `mabdet bench` backpropagates through a backbone that
  // ends in feature maps rather than a loss. Empty (the default): the loss layers alone.
  void set_sum_outputs(std::vector<size_t> nodes);
  double loss() const;  // the weighted sum of every loss term of the last forward
  // Each named term of the last forward (weighted), summed over layers that report the same name,
  // in the order the terms first appear. A layer's single default term takes the layer's name=.
  std::vector<LossTerm> loss_terms() const;
  void zero_grads();

  // Per-layer wall time of forward / backward, accumulated while profiling is on (for `bench`).
  void set_profiling(bool on);
  const std::vector<double>& forward_seconds() const { return fwd_s_; }
  const std::vector<double>& backward_seconds() const { return bwd_s_; }

  // What the optimizer updates: every trainable param once (a shared param is listed by its
  // owner only; frozen layers are left out), with the section's lr_mult/decay_mult applied.
  std::vector<Param> params();
  // For each entry of params(): the node after whose backward that gradient is complete (the
  // lowest index among its owner and the layers that share it).
  std::vector<size_t> params_final_node();
  // Every param layer i owns (frozen included, shared views excluded): what checkpoints save.
  std::vector<Param> saved_params(size_t i);
  std::vector<State> saved_state(size_t i);
  std::vector<State> state();
  void print_table(std::FILE* f) const;
  // Moves the network to device d: every layer's params, gradients, state and buffers and every
  // activation; shared params are shared again on d. The network is built on the host (weight
  // init, loaded checkpoints), then moved; a layer that runs on the host only fails for CUDA,
  // naming its cfg line (and leaves the network unusable). Inputs to forward() must then live on d.
  void to(Device d);
  Device device() const { return device_; }

 private:
  struct Ref {
    int node = -1;            // -1: the network input
    Kind kind = Kind::Float;
    size_t slot = 0;          // index among that node's ports of this kind
    bool grad = true;         // the port carries gradient and the cfg does not stop it
  };
  struct Node {
    std::unique_ptr<Layer> layer;
    std::vector<Port> ports;
    std::vector<Ref> refs;
    std::string name, type, shares;  // shares: name of the layer whose params this one uses
    bool share_stats = false;        // share_stats=1: its norm statistics are the owner's too
    int line = 0;
    bool frozen = false, needs_grad = false;
    float lr_mult = 1.f, decay_mult = 1.f, loss_weight = 1.f;
    std::vector<Tensor> fout, fgrad;  // per Float port: output and dL/doutput (in backward only)
    std::vector<IndexTensor> iout;    // per Index port
    std::vector<int> last_reader;     // per Float port: the last node that reads it (-1: none)
    std::vector<char> pooled;         // per Float port: its storage went to pool_ (lean memory)
    std::vector<char> unread_back;    // per Float port: no backward reads it (lean training frees it)
    std::vector<char> grad_live;      // per Float port: fgrad holds storage (during backward)
    bool keep = false;                // forward-only memory keeps its outputs
  };
  Ref resolve(const Section& s, const std::string& ref, int self) const;
  void read_graph_keys(const Section& s, Node& node);
  void share_params(const Section& s, Node& node);
  void apply_freeze_at(const Section& net);
  const Tensor& float_in(const Ref& r) const { return r.node < 0 ? *input_ : nodes_[r.node].fout[r.slot]; }
  void gather(const Node& n, Inputs& in) const;
  static Outputs outputs_of(Node& n);
  void to_pool(Node& n, size_t port);
  void from_pool(Node& n, size_t port, const Shape& s);
  void release_after(size_t i, bool train);
  bool releasable(const Node& n, size_t port, bool train) const;
  void check_held(size_t i, size_t slot) const;
  void link_shared(Node& node, const Node& owner);
  double synced_now() const;  // seconds, once the device has run what was queued (profiling)  // node's params (and stats) become owner's

  NetConfig cfg_;
  Device device_ = Device::CPU;
  std::vector<Node> nodes_;
  Shape in_shape_{};
  const Tensor* input_ = nullptr;
  std::vector<size_t> sum_outputs_;
  bool profiling_ = false;
  bool lean_ = false;
  bool grads_dropped_ = false;  // drop_param_grads() ran and no backward has allocated them since
  bool released_ = false;     // no activations held: the last forward was forward-only, or a lean backward followed it
  std::vector<Tensor> pool_;  // storage of released outputs, taken again by later ones
  std::vector<Tensor> grad_pool_;  // storage of finished gradients, taken by the next ones
  std::vector<double> fwd_s_, bwd_s_;
};

}  // namespace mabdet
