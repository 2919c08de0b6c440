// [roi_sampler] from=rpn,rpn:image: the RoIs the box head trains on (Detectron2's
// label_and_sample_proposals). Training: per image the ground-truth boxes are appended to the
// proposals, each RoI is matched to the box it overlaps most (IoU >= iou_threshold: that box's
// class, else background = classes), and batch_per_image RoIs are sampled with at most
// positive_fraction positives, positives first. Inference: the proposals pass through unlabelled.
// Ports: rois (R, 4) (no gradient), image (R), labels (R: class, `classes` = background, -1 at
// inference), gt (R: the matched box's index in its image's targets, -1 for background).
#include "layers/det_common.h"
#include "layers/factories.h"
#include "layers/factory_util.h"
#include "mabdet/detect/boxes.h"
#include "mabdet/detect/matcher.h"
#include "mabdet/detect/sampler.h"

namespace mabdet {
namespace {

using namespace detect;

class RoiSampler : public Layer {
 public:
  RoiSampler(int classes, Matcher m, BalancedSampler s, bool append_gt)
      : classes_(classes), matcher_(std::move(m)), sampler_(s), append_gt_(append_gt) {
    sampler_.bg_label = classes;
  }
  std::string type() const override { return "roi_sampler"; }
  void to(Device d) override { host_only(d); }
  std::string size_str() const override { return cat(sampler_.batch_per_image, "/img"); }
  std::vector<Port> ports() const override {
    return {{"rois", Kind::Float, false}, {"image", Kind::Index}, {"labels", Kind::Index}, {"gt", Kind::Index}};
  }
  Shape reshape(const std::vector<Shape>& in) override {
    if (in.at(0).c != 4) fail("roi_sampler: proposals must be (R, 4), got ", in[0].str());
    return Shape{0, 4, 1, 1};
  }

  void forward_ports(Context& ctx, const Inputs& in, const Outputs& out) override {
    if (in.index.size() != 1) fail("roi_sampler: needs the proposals' image index (from=RPN,RPN:image)");
    const Tensor& props = *in[0];
    const IndexTensor& image = *in.index[0];
    if (image.size() != size_t(props.n())) fail("roi_sampler: ", props.n(), " proposals, ", image.size(), " image indices");
    Tensor& rois = *out.f[0];
    IndexTensor &oimg = *out.index[0], &lab = *out.index[1], &gt = *out.index[2];
    if (!ctx.train) {
      rois.copy_from(props);
      oimg.copy_from(image);
      lab.reshape(props.n(), 1);
      lab.fill(-1);
      gt.reshape(props.n(), 1);
      gt.fill(-1);
      return;
    }
    const int N = ctx.batch ? ctx.batch->size() : 0;
    const Batch& b = train_batch(ctx, "roi_sampler", N);
    boxes_.clear();
    img_.clear();
    labels_.clear();
    gt_.clear();
    for (int n = 0; n < N; ++n) sample_image(ctx, n, b.targets[n], props, image);
    const int R = int(img_.size());
    rois.reshape(R, 4);
    std::copy(boxes_.begin(), boxes_.end(), rois.data());
    for (auto [t, v] : {std::pair{&oimg, &img_}, {&lab, &labels_}, {&gt, &gt_}}) {
      t->reshape(R, 1);
      std::copy(v->begin(), v->end(), t->data());
    }
  }

  void backward_ports(Context&, const Inputs&, const Outputs&, const std::vector<const Tensor*>&,
                      const InputGrads&) override {}

 private:
  void sample_image(Context& ctx, int n, const Targets& t, const Tensor& props, const IndexTensor& image) {
    rows_of_image(image, n, rows_);
    const int G = t.size(), P = int(rows_.size()) + (append_gt_ ? G : 0);
    cand_.reshape(P, 4);
    for (size_t j = 0; j < rows_.size(); ++j)
      std::copy(props.data() + size_t(rows_[j]) * 4, props.data() + size_t(rows_[j]) * 4 + 4, cand_.data() + j * 4);
    if (append_gt_) std::copy(t.boxes.begin(), t.boxes.end(), cand_.data() + rows_.size() * 4);
    gtb_.reshape(G, 4);
    std::copy(t.boxes.begin(), t.boxes.end(), gtb_.data());
    box_iou(gtb_, cand_, iou_);
    matcher_.match(iou_, matches_, match_labels_);
    cls_.reshape(P, 1);
    for (int i = 0; i < P; ++i) {
      const int m = match_labels_[i];
      cls_[i] = m == kMatchForeground && G > 0 ? t.labels[size_t(matches_[i])] : m == kMatchIgnore ? -1 : classes_;
    }
    sampler_.sample(cls_, ctx.rng, pos_, neg_);
    for (const IndexTensor* set : {&pos_, &neg_})
      for (size_t s = 0; s < set->size(); ++s) {
        const int i = (*set)[s];
        boxes_.insert(boxes_.end(), cand_.data() + size_t(i) * 4, cand_.data() + size_t(i) * 4 + 4);
        img_.push_back(n);
        labels_.push_back(cls_[i]);
        gt_.push_back(cls_[i] < classes_ ? matches_[i] : -1);
      }
  }

  int classes_;
  Matcher matcher_;
  BalancedSampler sampler_;
  bool append_gt_;
  std::vector<int> rows_, img_, labels_, gt_;
  std::vector<float> boxes_;
  Tensor cand_, gtb_, iou_;
  IndexTensor matches_, match_labels_, cls_, pos_, neg_;
};

}  // namespace

std::unique_ptr<Layer> make_roi_sampler(const Scope& cfg, const std::vector<Shape>& in, Rng& rng) {
  const Section& sec = cfg.sec;
  Matcher m;
  m.thresholds = {sec.get_float("iou_threshold", 0.5f)};
  if (!(m.thresholds[0] > 0 && m.thresholds[0] <= 1)) sec.fail_key("iou_threshold", "must be in (0, 1]");
  m.labels = {kMatchBackground, kMatchForeground};
  m.allow_low_quality_matches = false;
  BalancedSampler s;
  s.batch_per_image = positive_key(sec, "batch_per_image", 512);
  s.positive_fraction = sec.get_float("positive_fraction", 0.25f);
  if (!(s.positive_fraction >= 0 && s.positive_fraction <= 1)) sec.fail_key("positive_fraction", "must be in [0, 1]");
  const bool append_gt = sec.get_bool("append_gt", true);
  return reshaped(sec, std::make_unique<RoiSampler>(classes_key(cfg), m, s, append_gt), in);
}

}  // namespace mabdet
