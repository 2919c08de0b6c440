// Pieces the layer factories share: the checks on their integer keys, and building a layer's
// shapes at once so that an input it cannot take is reported with its section's cfg line.
#pragma once
#include <memory>
#include <vector>

#include "mabdet/cfg.h"
#include "mabdet/layer.h"

namespace mabdet {
// An int key that must be > 0; the first form requires the key.
int positive_key(const Section& sec, const std::string& key);
int positive_key(const Section& sec, const std::string& key, int def);
// A padding key (>= 0) whose default is darknet's "same" padding when pad=1.
int padding_key(const Section& sec, int same);
// `layer`, reshaped for `in`; its shape errors fail `sec`.
std::unique_ptr<Layer> reshaped(const Section& sec, std::unique_ptr<Layer> layer, const std::vector<Shape>& in);
}  // namespace mabdet
