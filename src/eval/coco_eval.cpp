// COCOeval's evaluate + accumulate + summarize. Per image (in parallel): IoUs of each category's
// top-100 detections against its ground truth, then greedy matching per area range and IoU
// threshold; the outcome per detection is a few bits. Per category (in parallel): the score-sorted
// detections of all images give precision/recall curves. Orders follow pycocotools exactly:
// detections of an image by score with ties in file order (its stable mergesort), the per-category
// concatenation in image-id order with ties kept in that order (also a stable sort).
#include <algorithm>
#include <atomic>
#include <cmath>
#include <mutex>
#include <numeric>

#include "mabdet/coco_eval.h"
#include "mabdet/error.h"

namespace mabdet {

namespace {

constexpr int T = 10, R = 101, A = 4, M = 3;
constexpr int kMaxDets[M] = {1, 10, 100};
constexpr uint16_t kNotKept = 0xffff;
constexpr double kAreaRng[A][2] = {{0, 1e10}, {0, 32 * 32}, {32 * 32, 96 * 96}, {96 * 96, 1e10}};

// numpy.linspace(start, stop, n): start + i * step, the last value set to stop.
std::array<double, T> iou_thresholds() {
  std::array<double, T> t{};
  const double step = (0.95 - 0.5) / (T - 1);
  for (int i = 0; i < T; ++i) t[size_t(i)] = i * step + 0.5;
  t[T - 1] = 0.95;
  return t;
}
std::array<double, R> recall_thresholds() {
  std::array<double, R> r{};
  const double step = 1.0 / (R - 1);
  for (int i = 0; i < R; ++i) r[size_t(i)] = i * step + 0.0;
  r[R - 1] = 1.0;
  return r;
}

// Matching outcome of one kept detection: bit t set = true positive / ignored at threshold t.
struct DetOutcome {
  uint16_t tp[A] = {0, 0, 0, 0};
  uint16_t ig[A] = {0, 0, 0, 0};
  uint16_t rank = kNotKept;  // position among its image+category's detections by score
};

// Indices of items grouped by image (stable), then by category within an image (stable).
template <class Item>
void group_by_image(const std::vector<Item>& items, size_t n_img, std::vector<uint32_t>& order,
                    std::vector<uint32_t>& start) {
  start.assign(n_img + 1, 0);
  for (const Item& it : items) ++start[size_t(it.img) + 1];
  std::partial_sum(start.begin(), start.end(), start.begin());
  order.resize(items.size());
  std::vector<uint32_t> pos(start.begin(), start.end() - 1);
  for (size_t i = 0; i < items.size(); ++i) order[pos[size_t(items[i].img)]++] = uint32_t(i);
  // Ties by index = file order (a stable sort without its per-call buffer).
  for (size_t im = 0; im < n_img; ++im)
    std::sort(order.begin() + start[im], order.begin() + start[im + 1], [&](uint32_t a, uint32_t b) {
      return items[a].cat != items[b].cat ? items[a].cat < items[b].cat : a < b;
    });
}

struct Evaluator {
  Evaluator(const CocoGroundTruth& g, const CocoResults& r, IouType i)
      : gt(g), res(r), iou(i), K(g.categories.size()), outcome(r.dets.size()), npig(K * A, 0) {}
  const CocoGroundTruth& gt;
  const CocoResults& res;
  IouType iou;
  std::array<double, T> thr = iou_thresholds();
  std::array<double, R> rec_thr = recall_thresholds();
  size_t K;  // categories
  std::vector<DetOutcome> outcome;  // per detection
  std::vector<int64_t> npig;        // [K][A]: ground truth that is not ignored
  std::vector<double> precision;    // [T][R][K][A][M]
  std::vector<double> recall;       // [T][K][A][M]
  int64_t id0_matches = 0;

  size_t pidx(int t, int r, size_t k, int a, int m) const {
    return ((((size_t(t) * R + size_t(r)) * K + k) * A + size_t(a)) * M + size_t(m));
  }
  size_t ridx(int t, size_t k, int a, int m) const {
    return (((size_t(t) * K + k) * A + size_t(a)) * M + size_t(m));
  }

  // Per-thread scratch for one image+category.
  struct Work {
    std::vector<uint32_t> dets;
    std::vector<double> ious;  // [D][G]
    std::vector<Rle> gt_rle, dt_rle;
    std::vector<BoxXYWH> gt_box, dt_box;
    std::vector<uint32_t> gorder;
    std::vector<uint8_t> ign, crowd, gtm;             // in matching order
    std::vector<double> gt_area, dt_area;
    std::vector<uint8_t> gt_crowd, gt_id0, out_of_range;
    uint16_t tp_bits[kMaxDets[M - 1]], ig_bits[kMaxDets[M - 1]];
    std::vector<int64_t> npig;
    int64_t id0 = 0;
  };

  void image_category(size_t im, const uint32_t* g, size_t G, const uint32_t* d0, size_t D0,
                      Work& w) {
    // Detections by descending score, ties in file order (= index order), at most 100.
    w.dets.assign(d0, d0 + D0);
    std::sort(w.dets.begin(), w.dets.end(), [&](uint32_t a, uint32_t b) {
      const double sa = res.dets[a].score, sb = res.dets[b].score;
      return sa != sb ? sa > sb : a < b;
    });
    const size_t D = std::min<size_t>(D0, size_t(kMaxDets[M - 1]));
    w.dets.resize(D);
    for (size_t i = 0; i < D; ++i) outcome[w.dets[i]].rank = uint16_t(i);
    w.out_of_range.resize(D);
    const size_t cat = size_t(G ? gt.anns[g[0]].cat : res.dets[d0[0]].cat);

    w.ious.assign(D * G, 0.0);
    if (D && G) {
      if (iou == IouType::Bbox) {
        for (size_t d = 0; d < D; ++d)
          for (size_t j = 0; j < G; ++j)
            w.ious[d * G + j] = box_iou(res.dets[w.dets[d]].bbox, gt.anns[g[j]].bbox, gt.anns[g[j]].crowd);
      } else {
        const uint32_t ih = gt.image_h[im], iw = gt.image_w[im];
        w.gt_rle.resize(G);
        w.gt_box.resize(G);
        for (size_t j = 0; j < G; ++j) {
          try {
            w.gt_rle[j] = gt.segms.to_rle(gt.anns[g[j]].segm, ih, iw);
          } catch (const Error& e) {
            fail(gt.path, ": annotation id ", gt.anns[g[j]].id, ": segmentation ", e.what());
          }
          w.gt_box[j] = rle_to_bbox(w.gt_rle[j]);
        }
        w.dt_rle.resize(D);
        w.dt_box.resize(D);
        for (size_t d = 0; d < D; ++d) {
          const CocoResults::Det& det = res.dets[w.dets[d]];
          try {
            w.dt_rle[d] = res.segms.kind(det.segm) == SegmStore::kNone
                              ? rle_from_bbox(det.bbox, ih, iw)
                              : res.segms.to_rle(det.segm, ih, iw);
          } catch (const Error& e) {
            fail(res.path.empty() ? "detection" : res.path + ": entry", " ", w.dets[d],
                 ": segmentation ", e.what());
          }
          w.dt_box[d] = rle_to_bbox(w.dt_rle[d]);
        }
        for (size_t d = 0; d < D; ++d)
          for (size_t j = 0; j < G; ++j)
            w.ious[d * G + j] = rle_iou(w.dt_rle[d], w.dt_box[d], w.gt_rle[j], w.gt_box[j],
                                        gt.anns[g[j]].crowd);
      }
    }

    // Per-pair data gathered once, so the matching loops below touch only small local arrays.
    w.gt_area.resize(G);
    w.gt_crowd.resize(G);
    w.gt_id0.resize(G);
    for (size_t j = 0; j < G; ++j) {
      const auto& ann = gt.anns[g[j]];
      w.gt_area[j] = ann.area;
      w.gt_crowd[j] = ann.crowd;
      w.gt_id0[j] = ann.id == 0;
    }
    w.dt_area.resize(D);
    for (size_t d = 0; d < D; ++d) w.dt_area[d] = res.dets[w.dets[d]].area;

    for (int a = 0; a < A; ++a) {
      const double lo = kAreaRng[a][0], hi = kAreaRng[a][1];
      // Ground truth that is crowd or outside the range is "ignored"; it goes last (stable).
      // ign and crowd below are indexed in that order (jj), not in file order (j).
      w.gorder.clear();
      for (int pass = 0; pass < 2; ++pass)
        for (size_t j = 0; j < G; ++j) {
          const bool ig = w.gt_crowd[j] || w.gt_area[j] < lo || w.gt_area[j] > hi;
          if (ig == bool(pass)) w.gorder.push_back(uint32_t(j));
          if (pass == 0 && !ig) ++w.npig[cat * A + size_t(a)];
        }
      w.ign.resize(G);
      w.crowd.resize(G);
      for (size_t jj = 0; jj < G; ++jj) {
        const uint32_t j = w.gorder[jj];
        w.ign[jj] = w.gt_crowd[j] || w.gt_area[j] < lo || w.gt_area[j] > hi;
        w.crowd[jj] = w.gt_crowd[j];
      }
      for (size_t d = 0; d < D; ++d) {
        const bool out_of_range = w.dt_area[d] < lo || w.dt_area[d] > hi;
        w.tp_bits[d] = w.ig_bits[d] = 0;
        w.out_of_range[d] = out_of_range;
      }

      for (int t = 0; t < T; ++t) {
        w.gtm.assign(G, 0);
        const double t_iou = std::min(thr[size_t(t)], 1 - 1e-10);
        const uint16_t bit = uint16_t(1u << t);
        for (size_t d = 0; d < D; ++d) {
          // data() + offset, not &ious[d * G]: with no ground truth (G = 0) ious is empty.
          const double* iou_row = w.ious.data() + d * G;
          double best = t_iou;
          long m = -1;
          for (size_t jj = 0; jj < G; ++jj) {
            // A matched ground truth is used up unless it is a crowd region.
            if (w.gtm[jj] && !w.crowd[jj]) continue;
            // Once matched to a regular ground truth, ignored ones (sorted last) cannot win.
            if (m > -1 && !w.ign[size_t(m)] && w.ign[jj]) break;
            const double v = iou_row[w.gorder[jj]];
            if (v < best) continue;
            best = v;
            m = long(jj);
          }
          if (m == -1) {
            if (w.out_of_range[d]) w.ig_bits[d] |= bit;
            continue;
          }
          w.gtm[size_t(m)] = 1;
          if (w.ign[size_t(m)]) w.ig_bits[d] |= bit;
          else w.tp_bits[d] |= bit;
          if (a == 0 && w.gt_id0[w.gorder[size_t(m)]]) ++w.id0;
        }
      }
      for (size_t d = 0; d < D; ++d) {
        DetOutcome& o = outcome[w.dets[d]];
        o.tp[a] = w.tp_bits[d];
        o.ig[a] = w.ig_bits[d];
      }
    }
  }

  void evaluate_images() {
    std::vector<uint32_t> gorder, gstart, dorder, dstart;
    const size_t I = gt.image_ids.size();
    group_by_image(gt.anns, I, gorder, gstart);
    group_by_image(res.dets, I, dorder, dstart);
    std::atomic<bool> failed{false};
    std::string msg;
    std::mutex mu;
#pragma omp parallel
    {
      Work w;
      w.npig.assign(K * A, 0);
#pragma omp for schedule(dynamic, 8)
      for (int64_t ii = 0; ii < int64_t(I); ++ii) {
        if (failed.load(std::memory_order_relaxed)) continue;
        const size_t im = size_t(ii);
        try {
          const uint32_t *g = gorder.data() + gstart[im], *ge = gorder.data() + gstart[im + 1];
          const uint32_t *d = dorder.data() + dstart[im], *de = dorder.data() + dstart[im + 1];
          // Walk both category-sorted lists together, one category at a time.
          while (g < ge || d < de) {
            const int32_t cg = g < ge ? gt.anns[*g].cat : INT32_MAX;
            const int32_t cd = d < de ? res.dets[*d].cat : INT32_MAX;
            const int32_t c = std::min(cg, cd);
            const uint32_t* g1 = g;
            while (g1 < ge && gt.anns[*g1].cat == c) ++g1;
            const uint32_t* d1 = d;
            while (d1 < de && res.dets[*d1].cat == c) ++d1;
            image_category(im, g1 > g ? g : nullptr, size_t(g1 - g), d, size_t(d1 - d), w);
            g = g1;
            d = d1;
          }
        } catch (const Error& e) {
          std::lock_guard<std::mutex> lock(mu);
          if (!failed.exchange(true)) msg = e.what();
        }
      }
#pragma omp critical
      {
        for (size_t i = 0; i < npig.size(); ++i) npig[i] += w.npig[i];
        id0_matches += w.id0;
      }
    }
    if (failed) fail(msg);
  }

  void accumulate() {
    precision.assign(size_t(T) * R * K * A * M, -1.0);
    recall.assign(size_t(T) * K * A * M, -1.0);
    struct Key {
      double score;
      uint64_t order;  // image index, then rank within the image: the concatenation order
      uint32_t det;
    };
    std::vector<std::vector<Key>> by_cat(K);
    for (size_t i = 0; i < res.dets.size(); ++i)
      if (outcome[i].rank != kNotKept)
        by_cat[size_t(res.dets[i].cat)].push_back(
            {res.dets[i].score, uint64_t(res.dets[i].img) << 16 | outcome[i].rank, uint32_t(i)});
#pragma omp parallel
    {
      std::vector<double> pr[T];
      std::vector<DetOutcome> sorted;
#pragma omp for schedule(dynamic, 1)
      for (int64_t kk = 0; kk < int64_t(K); ++kk) {
        const size_t k = size_t(kk);
        std::vector<Key>& L = by_cat[k];
        // Score descending; ties by image order, then by rank: the stable sort of the
        // image-ordered concatenation.
        std::sort(L.begin(), L.end(), [](const Key& a, const Key& b) {
          return a.score != b.score ? a.score > b.score : a.order < b.order;
        });
        sorted.clear();
        for (const Key& key : L) sorted.push_back(outcome[key.det]);
        std::vector<Key>().swap(L);
        for (int a = 0; a < A; ++a) {
          const int64_t np = npig[k * A + size_t(a)];
          if (np == 0) continue;
          for (int m = 0; m < M; ++m) {
            const uint16_t max_rank = uint16_t(kMaxDets[m]);
            double tp[T] = {}, fp[T] = {};
            for (int t = 0; t < T; ++t) pr[t].clear();
            // One sweep for all thresholds. Only true positives need a point on the curve: the
            // recall-thresholded lookup lands on the first point reaching a recall, always a
            // true positive, and a false positive's precision never exceeds the true positive
            // before it, so it never raises the interpolated (suffix-maximum) precision.
            // Ignored detections count as neither.
            for (const DetOutcome& o : sorted) {
              if (o.rank >= max_rank) continue;
              const unsigned counted = ~unsigned(o.ig[a]) & ((1u << T) - 1);
              const unsigned hit = o.tp[a] & counted;
              for (int t = 0; t < T; ++t) {
                if (hit >> t & 1) {
                  tp[t] += 1;
                  pr[t].push_back(tp[t] / (fp[t] + tp[t] + 2.220446049250313e-16));
                } else if (counted >> t & 1) {
                  fp[t] += 1;
                }
              }
            }
            for (int t = 0; t < T; ++t) {
              recall[ridx(t, k, a, m)] = tp[t] / double(np);
              std::vector<double>& p = pr[t];
              for (size_t i = p.size(); i-- > 1;)
                if (p[i] > p[i - 1]) p[i - 1] = p[i];
              // Point i has recall (i + 1) / np, as pycocotools computes it.
              size_t pi = 0;
              for (int r = 0; r < R; ++r) {
                while (pi < p.size() && double(pi + 1) / double(np) < rec_thr[size_t(r)]) ++pi;
                precision[pidx(t, r, k, a, m)] = pi < p.size() ? p[pi] : 0.0;
              }
            }
          }
        }
      }
    }
  }

  // Mean over the entries that are not -1 (pycocotools' np.mean(s[s > -1])), or -1.
  double summarize(bool ap, int t_only, int a, int m) const {
    double sum = 0;
    size_t n = 0;
    for (int t = 0; t < T; ++t) {
      if (t_only >= 0 && t != t_only) continue;
      for (size_t k = 0; k < K; ++k) {
        if (ap) {
          for (int r = 0; r < R; ++r) {
            const double v = precision[pidx(t, r, k, a, m)];
            if (v > -1) { sum += v; ++n; }
          }
        } else {
          const double v = recall[ridx(t, k, a, m)];
          if (v > -1) { sum += v; ++n; }
        }
      }
    }
    return n ? sum / double(n) : -1.0;
  }

  double category_ap(size_t k) const {
    double sum = 0;
    size_t n = 0;
    for (int t = 0; t < T; ++t)
      for (int r = 0; r < R; ++r) {
        const double v = precision[pidx(t, r, k, 0, M - 1)];
        if (v > -1) { sum += v; ++n; }
      }
    return n ? sum / double(n) : -1.0;
  }
};

}  // namespace

CocoEvalResult coco_evaluate(const CocoGroundTruth& gt, const CocoResults& res, IouType iou) {
  Evaluator ev(gt, res, iou);
  CocoEvalResult out;
  if (res.dets.empty())
    out.warnings.push_back(cat(res.path.empty() ? std::string("no detections") : res.path + " holds no detections",
                               ": every AP and AR is 0 where there is ground truth (pycocotools "
                               "would crash here)"));
  ev.evaluate_images();
  ev.accumulate();
  // Index 5 of the thresholds is 0.75, index 0 is 0.5; maxDets index 2 is 100.
  const int kAll = 0, kSmall = 1, kMedium = 2, kLarge = 3;
  out.stats = {ev.summarize(true, -1, kAll, 2),    ev.summarize(true, 0, kAll, 2),
               ev.summarize(true, 5, kAll, 2),     ev.summarize(true, -1, kSmall, 2),
               ev.summarize(true, -1, kMedium, 2), ev.summarize(true, -1, kLarge, 2),
               ev.summarize(false, -1, kAll, 0),   ev.summarize(false, -1, kAll, 1),
               ev.summarize(false, -1, kAll, 2),   ev.summarize(false, -1, kSmall, 2),
               ev.summarize(false, -1, kMedium, 2), ev.summarize(false, -1, kLarge, 2)};
  for (size_t k = 0; k < ev.K; ++k) out.per_category_ap.push_back({gt.categories[k].id, ev.category_ap(k)});
  if (ev.id0_matches)
    out.warnings.push_back(cat("ground-truth annotation id 0 was matched ", ev.id0_matches,
                               " times (area all, over IoU thresholds): pycocotools counts such "
                               "matches as false positives (cocoapi #664); mabdet counts them "
                               "correctly, so pycocotools would report different numbers"));
  return out;
}

}  // namespace mabdet
