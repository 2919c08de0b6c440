// INI cfg files (darknet style): `[net]` then one section per layer, key=value lines, `#`/`;`
// comments. Every getter marks its key as read and remembers it as allowed, so after a section has
// been consumed check_unused() can reject keys nothing read, naming file, line and allowed keys.
// The same parser reads `.data` files (key=value without sections).
#pragma once
#include <map>
#include <string>
#include <vector>

namespace mabdet {

class Section {
 public:
  Section(std::string type, std::string file, int line) : type_(std::move(type)), file_(std::move(file)), line_(line) {}

  const std::string& type() const { return type_; }
  const std::string& file() const { return file_; }
  int line() const { return line_; }
  std::string where() const;                 // "file:line [type]"
  bool has(const std::string& key) const;    // does not mark as read
  void set(const std::string& key, const std::string& value, int line);  // parser use; dup -> error

  std::string get_str(const std::string& key) const;  // required
  std::string get_str(const std::string& key, const std::string& def) const;
  int get_int(const std::string& key) const;
  int get_int(const std::string& key, int def) const;
  float get_float(const std::string& key, float def) const;
  bool get_bool(const std::string& key, bool def) const;  // 0/1
  std::vector<int> get_ints(const std::string& key, const std::vector<int>& def) const;      // "1,2,3"
  std::vector<float> get_floats(const std::string& key, const std::vector<float>& def) const;
  std::vector<std::string> get_strs(const std::string& key, const std::vector<std::string>& def) const;
  // One of `allowed`; anything else is an error that lists them.
  std::string get_choice(const std::string& key, const std::string& def, const std::vector<std::string>& allowed) const;

  // Error at this key's line ("file:line: [type] key=value: msg"), or the section's if absent.
  [[noreturn]] void fail_key(const std::string& key, const std::string& msg) const;
  [[noreturn]] void fail_section(const std::string& msg) const;
  // Rejects keys that no getter read; `context` is appended to the message (e.g. "norm=bn").
  // Unread keys starting with one of `tolerated_prefixes` are returned instead of rejected.
  std::vector<std::string> check_unused(const std::string& context = "",
                                        const std::vector<std::string>& tolerated_prefixes = {}) const;
  // Keys present but not read (for callers that combine several sections).
  std::vector<std::string> unused_keys() const;

 private:
  struct Entry {
    std::string value;
    int line;
    mutable bool used = false;
  };
  const Entry* find(const std::string& key) const;  // marks read + allowed
  std::string type_, file_;
  int line_;
  std::map<std::string, Entry> kv_;
  std::vector<std::string> order_;
  mutable std::vector<std::string> allowed_;
};

// Reads a layer from `sec`, falling back to `net` for keys a section may inherit (norm=, eps, ...).
struct Scope {
  const Section& sec;
  const Section* net;
  const Section& pick(const std::string& key) const { return (sec.has(key) || !net) ? sec : *net; }
  std::string get_str(const std::string& k, const std::string& d) const { return pick(k).get_str(k, d); }
  int get_int(const std::string& k, int d) const { return pick(k).get_int(k, d); }
  float get_float(const std::string& k, float d) const { return pick(k).get_float(k, d); }
  bool get_bool(const std::string& k, bool d) const { return pick(k).get_bool(k, d); }
  std::string get_choice(const std::string& k, const std::string& d, const std::vector<std::string>& a) const {
    return pick(k).get_choice(k, d, a);
  }
};

std::vector<Section> parse_cfg(const std::string& path);          // [sections]
std::vector<Section> parse_cfg_text(const std::string& text, const std::string& name);
Section parse_kv(const std::string& path);                         // .data files

}  // namespace mabdet
