#include "mabdet/classifier_export.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <algorithm>
#include <unordered_map>
#include <vector>

#include "mabdet/classifier.h"
#include "mabdet/weights.h"

namespace mabdet {
namespace {
constexpr char kMagic[8] = {'M', 'A', 'B', 'D', 'S', 'H', 'P', '\0'};
constexpr uint32_t kVersion = 1;

class Out {
 public:
  explicit Out(std::string path) : path_(std::move(path)), f_(std::fopen(path_.c_str(), "wb")) {
    if (!f_) fail(path_, ": cannot write (", std::strerror(errno), ")");
  }
  ~Out() {
    if (f_) std::fclose(f_);
  }
  void bytes(const void* p, size_t n) {
    if (n && std::fwrite(p, 1, n, f_) != n) fail(path_, ": write failed (", std::strerror(errno), ")");
  }
  template <class T>
  void pod(T v) { bytes(&v, sizeof v); }
  template <class T>
  void array(const std::vector<T>& v) { bytes(v.data(), v.size() * sizeof(T)); }
  void close() {
    std::FILE* f = f_;
    f_ = nullptr;
    if (std::fclose(f)) fail(path_, ": write failed (", std::strerror(errno), ")");
  }

 private:
  std::string path_;
  std::FILE* f_;
};
}  // namespace

void classifier_export(const std::string& cfg, const std::string& data, const std::string& out, int64_t steps,
                       const std::string& init_weights) {
  ShapesData d = read_shapes_data(data);
  Network net = Network::from_file(cfg);
  const NetConfig& c = net.config();
  if (c.width != c.height) fail(cfg, ": [net] width and height must be equal for the shapes data");
  if (steps < 0) steps = c.max_batches;
  if (steps < 1) fail(cfg, ": [net] max_batches must be > 0 to export its training images (or give --stop-after N)");
  const int S = c.width;
  ShapesSampler sampler(d, S);

  // Table rows in order of first use, so the images are rendered walking the epochs forward once.
  const int64_t P = steps * c.batch;
  std::vector<int64_t> order(static_cast<size_t>(P)), table_index, table_label;
  std::unordered_map<int64_t, int64_t> row_of;
  for (int64_t p = 0; p < P; ++p) {
    const int64_t idx = sampler.train_index(p);
    auto it = row_of.find(idx);
    if (it == row_of.end()) {
      it = row_of.emplace(idx, int64_t(table_index.size())).first;
      table_index.push_back(idx);
    }
    order[size_t(p)] = it->second;
  }
  const int64_t T = int64_t(table_index.size()), V = d.valid_size;

  Out f(out);
  f.bytes(kMagic, sizeof kMagic);
  for (uint32_t v : {kVersion, uint32_t(S), uint32_t(d.classes), uint32_t(c.batch)}) f.pod(v);
  for (int64_t v : {T, P, V}) f.pod(v);
  f.array(table_index);
  f.array(order);
  Tensor images;
  IndexTensor labels;
  table_label.resize(size_t(T));
  int64_t first_use = 0;
  for (int64_t r = 0; r < T; ++r) {
    while (order[size_t(first_use)] != r) ++first_use;  // rows are numbered by first use
    sampler.train_batch(first_use, 1, images, labels);  // the very call classifier_train makes
    table_label[size_t(r)] = labels[0];
    f.bytes(images.data(), images.size() * sizeof(float));
  }
  f.array(table_label);
  std::vector<int64_t> valid_label(static_cast<size_t>(V));
  const int chunk = 50;
  for (int64_t first = 0; first < V; first += chunk) {
    const int n = int(std::min<int64_t>(chunk, V - first));
    sampler.valid_batch(first, n, images, labels);  // the calls classifier_valid makes
    for (int i = 0; i < n; ++i) valid_label[size_t(first + i)] = labels[i];
    f.bytes(images.data(), images.size() * sizeof(float));
  }
  f.array(valid_label);
  f.close();
  std::fprintf(stderr, "exported %lld training positions (%lld distinct images) and %lld validation images to %s\n",
               (long long)P, (long long)T, (long long)V, out.c_str());
  if (!init_weights.empty()) {
    save_weights(init_weights, net, Progress{}, nullptr);
    std::fprintf(stderr, "saved the initial weights to %s\n", init_weights.c_str());
  }
}

}  // namespace mabdet
