// Classification input from a decoded image: fixed W x H, aspect ratio kept.
#pragma once
#include <vector>

#include "mabdet/data/image.h"

namespace mabdet {

// Scales `im` (bilinear, antialiased when shrinking: resize_normalize) so it just covers W x H,
// keeps the centre W x H (mirrored left-right when `flip`), and writes (v - mean) / std per RGB
// channel (0..255 scale) as three W x H planes at chw. `scratch` is reused between calls.
void resize_center_crop(const Image& im, int W, int H, bool flip, const float mean[3], const float std[3],
                        float* chw, std::vector<float>& scratch);

}  // namespace mabdet
