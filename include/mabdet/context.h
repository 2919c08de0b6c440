// Context: everything a layer may need besides its inputs, passed explicitly (no globals).
#pragma once
#include <cstdint>

#include "mabdet/rng.h"
#include "mabdet/tensor.h"

namespace mabdet {

// How convolutions run: im2col + sgemm (Reference, the readable path and test oracle, on either
// device), oneDNN wherever it has the shape (Dnnl, DNNL=1 builds), or Auto: oneDNN where it
// measured faster (each layer's rule). On the GPU, Auto and Dnnl run cuDNN (CUDNN=1 builds) and
// Reference im2col + cuBLAS. Auto where oneDNN or cuDNN is built, else Reference;
// MABDET_CONV=auto|dnnl|reference sets it.
enum class ConvPath { Auto, Dnnl, Reference };
ConvPath default_conv_path();  // src/ops/conv_dnnl.cpp

struct Batch;  // mabdet/data/batch.h
class Comm;    // mabdet/comm.h

struct Context {
  bool train = false;      // training forward (batch statistics, buffers advance) vs inference
  // No backward follows this forward (the Network's lean inference, set_lean_memory):
  // layers keep nothing for one and may compute in place (NormAct normalizes the conv's output
  // where it lies). False: a backward may follow even an inference forward.
  bool forward_only = false;
  int64_t iteration = 0;   // optimizer steps completed so far
  Device device = Device::CPU;
  ConvPath conv = default_conv_path();
  Rng rng{1};
  // Loss gradients are multiplied by this: 1 / images per optimizer step, so the sub-batches of
  // one step (subdivisions) add up to the gradient of the step's mean loss.
  float loss_scale = 1.f;
  // Class labels of the current (sub-)batch, one per image, for classification losses.
  const IndexTensor* labels = nullptr;
  // The current (sub-)batch of detection data: each image's size and resize plan, boxes, classes,
  // crowd regions and mask polygons/RLE, for the layers that build training targets. Image i of
  // the network input is batch->meta[i] / batch->targets[i].
  const Batch* batch = nullptr;
  // Where the training data stream stands: the next image is data_index of epoch data_epoch.
  // Loaders advance it; checkpoints save it and resume restores it.
  int64_t data_epoch = 0, data_index = 0;
  // The data-parallel ranks this process trains with (null: this process alone). The trainer
  // sums gradients over them; sync_bn sums its statistics over them.
  Comm* comm = nullptr;

  // Scratch memory shared by all layers (im2col columns, temporaries). Contents do not survive
  // from one call to the next; it grows to the largest request and is then reused.
  float* workspace(size_t floats) { return grown(ws_, floats); }
  // A layer's transformed weights within one call (MABN's centred weights and their gradient),
  // apart from the workspace, which the conv fills while it reads them. One buffer for every
  // layer instead of two weight-sized copies per layer: it stays in cache from the centring to the
  // conv that reads it. Contents do not survive from one call to the next.
  float* weight_scratch(size_t floats) { return grown(wsc_, floats); }
  // A transient gradient for one layer's backward (NormAct's dL/dpre, shortcut's dL/dsum): one
  // tensor shared by all layers instead of one output-sized buffer each, apart from the workspace
  // because the conv's backward fills the workspace with columns while it reads dL/dpre. Valid
  // until the next call; reshaped to s (capacity only grows), contents undefined.
  Tensor& grad_scratch(const Shape& s) {
    if (gs_.device() != device) gs_ = Tensor(s, device);
    gs_.reshape(s);
    return gs_;
  }

 private:
  // t on this context's device with room for `floats` (grows only; contents undefined).
  float* grown(Tensor& t, size_t floats) {
    if (t.device() != device || t.size() < floats) t = Tensor(Shape{1, int((floats + 1023) / 1024), 1024, 1}, device);
    return t.data();
  }
  Tensor ws_, gs_, wsc_;
};

}  // namespace mabdet
