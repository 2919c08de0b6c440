#include "layers/det_common.h"

#include "layers/factory_util.h"
#include "mabdet/cfg.h"

namespace mabdet {

const Batch& train_batch(const Context& ctx, const char* layer, int n) {
  if (!ctx.batch)
    fail(layer, ": training needs detection data (boxes and classes); train this cfg with `mabdet train CFG DATA`");
  if (ctx.batch->size() != n) fail(layer, ": the batch has ", ctx.batch->size(), " images, the network input ", n);
  return *ctx.batch;
}

void image_size(const Context& ctx, int i, int padded_h, int padded_w, int& h, int& w) {
  if (ctx.batch && i < ctx.batch->size()) {
    h = ctx.batch->meta[i].plan.out_h;
    w = ctx.batch->meta[i].plan.out_w;
  } else {
    h = padded_h;
    w = padded_w;
  }
}

void rows_of_image(const IndexTensor& image, int i, std::vector<int>& rows) {
  rows.clear();
  for (size_t r = 0; r < image.size(); ++r)
    if (image[r] == i) rows.push_back(int(r));
}

float read_box_loss_beta(const Section& sec, float default_beta) {
  const std::string kind = sec.get_choice("box_loss", "smooth_l1", {"smooth_l1", "l1"});
  const float beta = sec.get_float("smooth_l1_beta", default_beta);
  if (!(beta >= 0) || !std::isfinite(beta)) sec.fail_key("smooth_l1_beta", "must be >= 0");
  return kind == "l1" ? 0.f : beta;
}

void normal_init(const std::vector<Param>& params, double std, Rng& rng) {
  for (const Param& p : params) {
    if (p.name == "weights") {
      for (size_t i = 0; i < p.value->size(); ++i) (*p.value)[i] = float(std * rng.normal());
    } else if (p.name.find("bias") != std::string::npos || p.name.find("beta") != std::string::npos) {
      p.value->zero();
    }
  }
}

// The number of classes of a head section: its classes= or [net]'s.
int classes_key(const Scope& cfg) {
  const int k = cfg.get_int("classes", 0);
  if (k < 1 || k > kMaxKey) cfg.pick("classes").fail_key("classes", cat("the number of object classes (1..", kMaxKey, ") is needed here"));
  return k;
}

}  // namespace mabdet
