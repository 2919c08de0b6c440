// Pieces the layer factories share: the checks on their integer keys, and building a layer's
// shapes at once so that an input it cannot take is reported with its section's cfg line.
#pragma once
#include <memory>
#include <vector>

#include "mabdet/cfg.h"
#include "mabdet/layer.h"

namespace mabdet {
// Upper bounds of integer keys and of the spatial sides layers compute: far beyond any real
// network, and small enough that no shape arithmetic (dilation * (size - 1), h * stride, padding)
// overflows int. Tensor sizes have their own bound (kMaxTensorValues).
constexpr int kMaxKey = 65536;     // filters, size, stride, dilation, padding, groups, outputs, batch
constexpr int kMaxSide = 1 << 20;  // any height or width, the input's included
// A layer's computed output side, checked against kMaxSide (fails naming the layer and the key).
int checked_side(int64_t side, const char* layer);
// An int key that must be in 1..kMaxKey; the first form requires the key.
int positive_key(const Section& sec, const std::string& key);
int positive_key(const Section& sec, const std::string& key, int def);
// A padding key (0..kMaxKey) whose default is darknet's "same" padding when pad=1.
int padding_key(const Section& sec, int same);
// `layer`, reshaped for `in`; its shape errors fail `sec`.
std::unique_ptr<Layer> reshaped(const Section& sec, std::unique_ptr<Layer> layer, const std::vector<Shape>& in);
}  // namespace mabdet
