// One factory per layer type (one file each); registry.cpp's table names them.
#pragma once
#include "layers/registry.h"

namespace mabdet {
std::unique_ptr<Layer> make_convolutional(const Scope& cfg, const std::vector<Shape>& in, Rng& rng);
std::unique_ptr<Layer> make_connected(const Scope& cfg, const std::vector<Shape>& in, Rng& rng);
std::unique_ptr<Layer> make_softmax(const Scope& cfg, const std::vector<Shape>& in, Rng& rng);
std::unique_ptr<Layer> make_maxpool(const Scope& cfg, const std::vector<Shape>& in, Rng& rng);
std::unique_ptr<Layer> make_avgpool(const Scope& cfg, const std::vector<Shape>& in, Rng& rng);
std::unique_ptr<Layer> make_shortcut(const Scope& cfg, const std::vector<Shape>& in, Rng& rng);
std::unique_ptr<Layer> make_route(const Scope& cfg, const std::vector<Shape>& in, Rng& rng);
std::unique_ptr<Layer> make_upsample(const Scope& cfg, const std::vector<Shape>& in, Rng& rng);
std::unique_ptr<Layer> make_deconvolutional(const Scope& cfg, const std::vector<Shape>& in, Rng& rng);
std::unique_ptr<Layer> make_normalization(const Scope& cfg, const std::vector<Shape>& in, Rng& rng);
std::unique_ptr<Layer> make_argmax(const Scope& cfg, const std::vector<Shape>& in, Rng& rng);
std::unique_ptr<Layer> make_select(const Scope& cfg, const std::vector<Shape>& in, Rng& rng);
// The detector's sections (docs/detector.md).
std::unique_ptr<Layer> make_rpn(const Scope& cfg, const std::vector<Shape>& in, Rng& rng);
std::unique_ptr<Layer> make_roi_sampler(const Scope& cfg, const std::vector<Shape>& in, Rng& rng);
std::unique_ptr<Layer> make_roi_align(const Scope& cfg, const std::vector<Shape>& in, Rng& rng);
std::unique_ptr<Layer> make_box_predictor(const Scope& cfg, const std::vector<Shape>& in, Rng& rng);
std::unique_ptr<Layer> make_mask_predictor(const Scope& cfg, const std::vector<Shape>& in, Rng& rng);
}  // namespace mabdet
