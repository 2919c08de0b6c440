#include "layers/registry.h"

#include "layers/factories.h"

namespace mabdet {

const std::vector<LayerType>& layer_types() {
  static const std::vector<LayerType> types = {
      {"convolutional", make_convolutional, 1, 1, false},
      {"connected", make_connected, 1, 1, false},
      {"softmax", make_softmax, 1, 1, false},
      {"maxpool", make_maxpool, 1, 1, false},
      {"avgpool", make_avgpool, 1, 1, false},
      {"shortcut", make_shortcut, 2, -1, true},
      {"route", make_route, 1, -1, false},
      {"upsample", make_upsample, 1, 1, false},
      {"deconvolutional", make_deconvolutional, 1, 1, false},
      {"normalization", make_normalization, 1, 1, false},
      {"argmax", make_argmax, 1, 1, false},
      {"select", make_select, 1, 1, false, 1},
      {"rpn", make_rpn, 1, -1, false},
      {"roi_sampler", make_roi_sampler, 1, 1, false, 1},
      {"roi_align", make_roi_align, 2, -1, false, 1},
      {"box_predictor", make_box_predictor, 2, 2, false, 3},
      {"mask_predictor", make_mask_predictor, 2, 2, false, 3},
  };
  return types;
}

const LayerType* find_layer_type(const std::string& name) {
  for (const LayerType& t : layer_types())
    if (name == t.name) return &t;
  return nullptr;
}

}  // namespace mabdet
