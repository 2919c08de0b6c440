// Classification helpers for validation ([softmax] output).
#pragma once
#include <vector>

#include "mabdet/tensor.h"

namespace mabdet {
// Index of the largest value of each image's C*H*W values (ties: the lowest index); any device.
std::vector<int> top1(const Tensor& probs);
}  // namespace mabdet
