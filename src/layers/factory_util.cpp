#include "layers/factory_util.h"

namespace mabdet {
int checked_side(int64_t side, const char* layer) {
  if (side > kMaxSide) fail(layer, ": the output would be ", side, " pixels high or wide, more than ", kMaxSide);
  return int(side);
}

int positive_key(const Section& sec, const std::string& key) {
  sec.get_str(key);  // required
  return positive_key(sec, key, 1);
}

int positive_key(const Section& sec, const std::string& key, int def) {
  const int v = sec.get_int(key, def);
  if (v <= 0 || v > kMaxKey) sec.fail_key(key, cat("must be in 1..", kMaxKey));
  return v;
}

int padding_key(const Section& sec, int same) {
  const bool pad = sec.get_bool("pad", false);
  const int padding = sec.get_int("padding", pad ? same : 0);
  if (padding < 0 || padding > kMaxKey) sec.fail_key("padding", cat("must be in 0..", kMaxKey));
  return padding;
}

std::unique_ptr<Layer> reshaped(const Section& sec, std::unique_ptr<Layer> layer, const std::vector<Shape>& in) {
  try {
    layer->reshape(in);
  } catch (const Error& e) {
    sec.fail_section(e.what());
  }
  return layer;
}
}  // namespace mabdet
