// Network: the layers of a cfg file in order, each reading one or more earlier outputs (`from=`).
// The [net] section carries the input geometry and the training hyper-parameters (NetConfig).
#pragma once
#include <cstdio>
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
  int sub_batch() const { return batch / subdivisions; }
};

class Network {
 public:
  explicit Network(const std::vector<Section>& sections);
  static Network from_file(const std::string& cfg_path);

  const NetConfig& config() const { return cfg_; }
  size_t size() const { return nodes_.size(); }
  Layer& layer(size_t i) { return *nodes_[i].layer; }
  const Tensor& output(size_t i) const { return nodes_[i].out; }
  const Tensor& output() const { return nodes_.back().out; }
  const std::vector<int>& inputs(size_t i) const { return nodes_[i].inputs; }  // -1: the network input

  // Runs every layer on `input` (N, C, H, W); reshapes buffers when the input shape changes.
  const Tensor& forward(Context& ctx, const Tensor& input);
  // Backpropagates from the loss layers of the last forward, adding into every param grad.
  void backward(Context& ctx);
  double loss() const;  // sum of the loss layers' losses of the last forward
  void zero_grads();

  // Per-layer wall time of forward / backward, accumulated while profiling is on (for `bench`).
  void set_profiling(bool on);
  const std::vector<double>& forward_seconds() const { return fwd_s_; }
  const std::vector<double>& backward_seconds() const { return bwd_s_; }

  std::vector<Param> params();
  std::vector<State> state();
  void print_table(std::FILE* f) const;

 private:
  struct Node {
    std::unique_ptr<Layer> layer;
    std::vector<int> inputs;
    std::string name, type;
    int line = 0;
    Tensor out, dout;  // (N, C, H, W) output and dL/doutput
  };
  void reshape(const Shape& in);
  const Tensor& input_of(int idx) const { return idx < 0 ? *input_ : nodes_[idx].out; }

  NetConfig cfg_;
  std::vector<Node> nodes_;
  Shape in_shape_{};
  const Tensor* input_ = nullptr;
  bool profiling_ = false;
  std::vector<double> fwd_s_, bwd_s_;
};

}  // namespace mabdet
