#include "mabdet/weights.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <libgen.h>

#include "mabdet/file_check.h"

namespace mabdet {
namespace {
constexpr char kMagic[8] = {'M', 'A', 'B', 'D', 'E', 'T', 'W', '\0'};
constexpr char kEnd[4] = {'E', 'N', 'D', '!'};
constexpr uint32_t kVersion = 2;

class Writer {
 public:
  Writer(std::string path) : path_(std::move(path)), f_(std::fopen(path_.c_str(), "wb")) {
    if (!f_) fail(path_, ": cannot write (", std::strerror(errno), ")");
  }
  ~Writer() {
    if (f_) std::fclose(f_);
  }
  void bytes(const void* p, size_t n) {
    if (n && std::fwrite(p, 1, n, f_) != n) fail(path_, ": write failed (", std::strerror(errno), ")");
  }
  template <class T>
  void pod(T v) { bytes(&v, sizeof v); }
  void str(const std::string& s) {
    pod(uint32_t(s.size()));
    bytes(s.data(), s.size());
  }
  void tensor(const Tensor& t) {
    pod(uint64_t(t.size()));
    if (t.device() == Device::CPU) return bytes(t.data(), t.size() * sizeof(float));
    Tensor host = t.clone(Device::CPU);
    bytes(host.data(), host.size() * sizeof(float));
  }
  // Flush to disk before the rename makes the file visible under its real name.
  void close_synced() {
    if (std::fflush(f_) || fsync(fileno(f_))) fail(path_, ": flush failed (", std::strerror(errno), ")");
    std::fclose(f_);
    f_ = nullptr;
  }

 private:
  std::string path_;
  std::FILE* f_;
};

class Reader {
 public:
  explicit Reader(std::string path) : path_(std::move(path)), f_(open(path_)) {
    if (!f_) fail(path_, ": cannot open (", std::strerror(errno), ")");
  }
  ~Reader() { std::fclose(f_); }
  static std::FILE* open(const std::string& p) {
    require_file(p, "a weights file");
    return std::fopen(p.c_str(), "rb");
  }
  void bytes(void* p, size_t n, const char* what) {
    if (n && std::fread(p, 1, n, f_) != n) fail(path_, ": truncated or unreadable while reading ", what, " at byte ", pos_);
    pos_ += n;
  }
  template <class T>
  T pod(const char* what) {
    T v;
    bytes(&v, sizeof v, what);
    return v;
  }
  std::string str(const char* what) {
    uint32_t n = pod<uint32_t>(what);
    if (n > 4096) fail(path_, ": corrupt file (", what, " of length ", n, " at byte ", pos_, ")");
    std::string s(n, '\0');
    bytes(s.data(), n, what);
    return s;
  }
  // Reads a float array of exactly t.size() values into t (any device).
  void tensor(Tensor& t, const std::string& what) {
    uint64_t n = pod<uint64_t>("a tensor size");
    if (n != t.size()) fail(path_, ": ", what, " has ", n, " values in the file, the cfg needs ", t.size());
    if (t.device() == Device::CPU) return bytes(t.data(), n * sizeof(float), what.c_str());
    Tensor host(t.shape());
    bytes(host.data(), n * sizeof(float), what.c_str());
    t.copy_from(host);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::FILE* f_;
  size_t pos_ = 0;
};

void fsync_dir_of(const std::string& path) {
  std::string copy = path;
  int fd = open(dirname(copy.data()), O_RDONLY);
  if (fd >= 0) {
    fsync(fd);
    close(fd);
  }
}
}  // namespace

std::vector<std::string> remove_stale_temps(const std::string& dir, std::time_t run_start) {
  std::vector<std::string> removed;
  DIR* d = opendir(dir.c_str());
  if (!d) return removed;
  // What a training run writes into its backup folder: checkpoints, the chart and its history,
  // the best-AP note.
  static const char* const marks[] = {".weights.tmp.", "_chart.png.tmp.", "_chart.tsv.tmp.", "_best.txt.tmp."};
  while (dirent* e = readdir(d)) {
    const std::string name = e->d_name;
    size_t at = std::string::npos, len = 0;
    for (const char* m : marks) {
      const size_t k = name.rfind(m);
      if (k != std::string::npos && k > 0) at = k, len = std::strlen(m);
    }
    if (at == std::string::npos) continue;
    const std::string digits = name.substr(at + len);
    if (digits.empty() || digits.size() > 9 || digits.find_first_not_of("0123456789") != std::string::npos) continue;
    const pid_t pid = pid_t(std::stol(digits));
    if (pid == getpid()) continue;
    const std::string path = cat(dir, "/", name);
    struct stat st;
    if (lstat(path.c_str(), &st) || !S_ISREG(st.st_mode)) continue;
    const bool dead = kill(pid, 0) != 0 && errno == ESRCH;
    if ((dead || st.st_mtime < run_start) && std::remove(path.c_str()) == 0) removed.push_back(path);
  }
  closedir(d);
  return removed;
}

void save_weights(const std::string& path, Network& net, const Progress& p, const std::vector<Tensor>* velocity) {
  const std::string tmp = cat(path, ".tmp.", getpid());
  try {
    Writer w(tmp);
    w.bytes(kMagic, sizeof kMagic);
    w.pod(kVersion);
    w.pod(uint32_t(velocity ? 1 : 0));
    w.pod(int64_t(p.steps));
    w.pod(int64_t(p.images_seen));
    for (uint64_t v : p.rng) w.pod(v);
    w.pod(int64_t(p.data_epoch));
    w.pod(int64_t(p.data_index));
    w.pod(uint32_t(net.size()));
    for (size_t i = 0; i < net.size(); ++i) {
      Layer& l = net.layer(i);
      auto params = net.saved_params(i);
      auto state = net.saved_state(i);
      w.str(l.type());
      w.pod(uint32_t(params.size() + state.size()));
      for (Param& q : params) {
        w.pod(uint8_t('P'));
        w.str(q.name);
        w.tensor(*q.value);
      }
      for (State& s : state) {
        w.pod(uint8_t(s.tensor ? 'S' : 'C'));
        w.str(s.name);
        if (s.tensor) w.tensor(*s.tensor);
        else w.pod(int64_t(*s.counter));
      }
    }
    if (velocity) {
      w.pod(uint32_t(velocity->size()));
      for (const Tensor& v : *velocity) w.tensor(v);
    }
    w.bytes(kEnd, sizeof kEnd);
    w.close_synced();
  } catch (...) {
    std::remove(tmp.c_str());
    throw;
  }
  if (std::rename(tmp.c_str(), path.c_str())) {
    int e = errno;
    std::remove(tmp.c_str());
    fail(path, ": cannot replace with the new checkpoint (", std::strerror(e), ")");
  }
  fsync_dir_of(path);
}

Progress load_weights(const std::string& path, Network& net, std::vector<Tensor>* velocity) {
  Reader r(path);
  char magic[8];
  r.bytes(magic, sizeof magic, "the header");
  if (std::memcmp(magic, kMagic, sizeof magic)) fail(path, ": not a mabdet weights file (bad magic)");
  uint32_t version = r.pod<uint32_t>("the version");
  if (version < 1 || version > kVersion)
    fail(path, ": weights format version ", version, " is not supported (this mabdet reads 1 to ", kVersion, ")");
  uint32_t flags = r.pod<uint32_t>("the flags");
  Progress p;
  p.steps = r.pod<int64_t>("the step count");
  p.images_seen = r.pod<int64_t>("the image count");
  if (p.steps < 0 || p.images_seen < 0)
    fail(path, ": corrupt header (step count ", p.steps, ", image count ", p.images_seen, ")");
  if (version >= 2) {
    p.has_stream = true;
    for (uint64_t& v : p.rng) v = r.pod<uint64_t>("the rng state");
    p.data_epoch = r.pod<int64_t>("the data epoch");
    p.data_index = r.pod<int64_t>("the data index");
    if (p.data_epoch < 0 || p.data_index < 0)
      fail(path, ": corrupt header (data position epoch ", p.data_epoch, ", index ", p.data_index, ")");
  }
  uint32_t layers = r.pod<uint32_t>("the layer count");
  if (layers != net.size()) fail(path, ": has ", layers, " layers, the cfg has ", net.size());
  for (size_t i = 0; i < net.size(); ++i) {
    Layer& l = net.layer(i);
    const std::string where = cat("layer ", i, " (", l.type(), ")");
    std::string type = r.str("a layer type");
    if (type != l.type()) fail(path, ": layer ", i, " is [", type, "] in the file but [", l.type(), "] in the cfg");
    auto params = net.saved_params(i);
    auto state = net.saved_state(i);
    uint32_t entries = r.pod<uint32_t>("an entry count");
    if (entries != params.size() + state.size())
      fail(path, ": ", where, " has ", entries, " saved tensors, the cfg's layer has ", params.size() + state.size(),
           " (a different norm?)");
    auto expect = [&](uint8_t kind, const std::string& name) {
      uint8_t k = r.pod<uint8_t>("an entry kind");
      std::string n = r.str("an entry name");
      if (k != kind || n != name) fail(path, ": ", where, " has '", n, "' where the cfg's layer has '", name, "'");
    };
    for (Param& q : params) {
      expect('P', q.name);
      r.tensor(*q.value, cat(where, " '", q.name, "'"));
    }
    for (State& s : state) {
      expect(s.tensor ? 'S' : 'C', s.name);
      if (s.tensor) r.tensor(*s.tensor, cat(where, " '", s.name, "'"));
      else {
        int64_t v = r.pod<int64_t>("a counter");
        // Counters count forwards or steps; a negative one would index before a buffer.
        if (v < 0) fail(path, ": ", where, " '", s.name, "' is ", v, " (corrupt file: counters are >= 0)");
        *s.counter = v;
      }
    }
  }
  if (flags & 1) {
    uint32_t n = r.pod<uint32_t>("the optimizer state");
    auto params = net.params();
    if (n != params.size()) fail(path, ": optimizer state for ", n, " params, the cfg has ", params.size());
    std::vector<Tensor> v(n);
    for (uint32_t i = 0; i < n; ++i) {
      v[i] = Tensor(params[i].value->shape(), params[i].value->device());
      r.tensor(v[i], cat("momentum of '", params[i].name, "'"));
    }
    if (velocity) *velocity = std::move(v);
  }
  char end[4];
  r.bytes(end, sizeof end, "the end marker");
  if (std::memcmp(end, kEnd, sizeof end)) fail(path, ": corrupt file (no end marker where expected)");
  return p;
}

}  // namespace mabdet
