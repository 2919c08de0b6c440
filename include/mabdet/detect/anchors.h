// Anchors: per FPN level, cell anchors centred at (0, 0), shifted to every position of an H x W
// feature map. Output rows are position-major: anchor a at (y, x) is row (y * W + x) * A + a, the
// order the RPN head's (A * 4, H, W) outputs are flattened in by both Detectron2 and torchvision.
#pragma once
#include <string>
#include <vector>

#include "mabdet/tensor.h"

namespace mabdet::detect {

// How cell anchors are made; both give aspect ratio = h / w and area = size^2.
enum class AnchorStyle {
  // Detectron2 DefaultAnchorGenerator (default): w = sqrt(size^2 / ratio), h = ratio * w in double,
  // no rounding; sizes outer, ratios inner.
  Detectron2,
  // torchvision AnchorGenerator: w = size / sqrt(ratio), h = size * sqrt(ratio) in float, then each
  // coordinate round()ed half to even; ratios outer, sizes inner.
  Torchvision,
};

// cell (A, 4), A = sizes * ratios, boxes [-w/2, -h/2, w/2, h/2]. Sizes and ratios are doubles as a
// cfg holds them (Detectron2 computes with Python floats; torchvision rounds them to float first).
void cell_anchors(const std::vector<double>& sizes, const std::vector<double>& aspect_ratios, AnchorStyle style,
                  Tensor& cell);

// anchors (H * W * A, 4): cell anchors shifted by ((x + offset) * stride, (y + offset) * stride).
// offset 0 puts anchor centres on the feature map's top-left pixel corners (torchvision; Detectron2's
// default), 0.5 on pixel centres (Detectron2's ANCHOR_GENERATOR.OFFSET = 0.5).
void grid_anchors(const Tensor& cell, int height, int width, float stride, float offset, Tensor& anchors);

// One generator for all levels: sizes and aspect_ratios per level (a single entry is used for every
// level), one stride per level.
struct AnchorGenerator {
  std::vector<std::vector<double>> sizes;         // e.g. {{32}, {64}, {128}, {256}, {512}}
  std::vector<std::vector<double>> aspect_ratios;  // e.g. {{0.5, 1, 2}}
  std::vector<float> strides;                     // e.g. {4, 8, 16, 32, 64}
  float offset = 0.f;
  AnchorStyle style = AnchorStyle::Detectron2;

  int levels() const { return int(strides.size()); }
  int anchors_per_cell(int level) const;
  // Checks the lists agree (sizes/aspect_ratios: one entry or one per level; all positive); throws
  // mabdet::Error naming `where` and the field.
  void validate(const std::string& where) const;
  // anchors (H * W * A, 4) of `level` over an H x W feature map.
  void generate(int level, int height, int width, Tensor& anchors) const;
};

}  // namespace mabdet::detect
