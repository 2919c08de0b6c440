#include "layers/factory_util.h"

namespace mabdet {
int positive_key(const Section& sec, const std::string& key) {
  const int v = sec.get_int(key);
  if (v <= 0) sec.fail_key(key, "must be > 0");
  return v;
}

int positive_key(const Section& sec, const std::string& key, int def) {
  const int v = sec.get_int(key, def);
  if (v <= 0) sec.fail_key(key, "must be > 0");
  return v;
}

int padding_key(const Section& sec, int same) {
  const bool pad = sec.get_bool("pad", false);
  const int padding = sec.get_int("padding", pad ? same : 0);
  if (padding < 0) sec.fail_key("padding", "must be >= 0");
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
