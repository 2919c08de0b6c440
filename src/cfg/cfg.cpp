#include "mabdet/cfg.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>

#include "mabdet/error.h"
#include "mabdet/file_check.h"

namespace mabdet {
namespace {
std::string trim(const std::string& s) {
  size_t a = s.find_first_not_of(" \t\r\n"), b = s.find_last_not_of(" \t\r\n");
  return a == std::string::npos ? "" : s.substr(a, b - a + 1);
}

std::vector<std::string> split_list(const std::string& v) {
  std::vector<std::string> out;
  std::stringstream ss(v);
  std::string item;
  while (std::getline(ss, item, ',')) out.push_back(trim(item));
  return out;
}

std::string read_file(const std::string& path) {
  require_file(path, "a cfg or .data file");
  std::ifstream f(path, std::ios::binary);
  if (!f) fail(path, ": cannot open (", std::strerror(errno), ")");
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

enum class IntParse { Ok, NotInt, OutOfRange };

// Base-10 int with nothing after it; strtoll saturates on overflow, so the range test also
// catches values beyond long long.
IntParse parse_int(const std::string& s, int& out) {
  char* end = nullptr;
  errno = 0;
  long long v = std::strtoll(s.c_str(), &end, 10);
  if (s.empty() || *end) return IntParse::NotInt;
  if (errno == ERANGE || v < std::numeric_limits<int>::min() || v > std::numeric_limits<int>::max())
    return IntParse::OutOfRange;
  out = int(v);
  return IntParse::Ok;
}

const char* kIntRange = "out of range for an integer (-2147483648..2147483647)";

// Parses lines into sections; kv_only puts everything in one section named after the file.
std::vector<Section> parse(const std::string& text, const std::string& name, bool kv_only) {
  std::vector<Section> out;
  if (kv_only) out.emplace_back("", name, 1);
  // Editors on Windows start UTF-8 files with a byte-order mark; it would glue an invisible
  // character to the first key or section name.
  std::istringstream in(text.compare(0, 3, "\xEF\xBB\xBF") == 0 ? text.substr(3) : text);
  std::string raw;
  for (int ln = 1; std::getline(in, raw); ++ln) {
    size_t cpos = raw.find_first_of("#;");
    std::string line = trim(cpos == std::string::npos ? raw : raw.substr(0, cpos));
    if (line.empty()) continue;
    if (line.front() == '[') {
      if (kv_only) fail(name, ":", ln, ": sections are not allowed in this file: '", line, "'");
      if (line.back() != ']' || line.size() < 3) fail(name, ":", ln, ": malformed section header '", line, "'");
      out.emplace_back(trim(line.substr(1, line.size() - 2)), name, ln);
      continue;
    }
    size_t eq = line.find('=');
    if (eq == std::string::npos) fail(name, ":", ln, ": expected key=value, got '", line, "'");
    std::string key = trim(line.substr(0, eq)), value = trim(line.substr(eq + 1));
    if (key.empty()) fail(name, ":", ln, ": empty key in '", line, "'");
    if (out.empty()) fail(name, ":", ln, ": key '", key, "' before the first [section]");
    out.back().set(key, value, ln);
  }
  return out;
}
}  // namespace

std::string Section::where() const { return type_.empty() ? cat(file_, ":", line_) : cat(file_, ":", line_, " [", type_, "]"); }

bool Section::has(const std::string& key) const { return kv_.count(key) > 0; }

void Section::set(const std::string& key, const std::string& value, int line) {
  auto it = kv_.find(key);
  if (it != kv_.end()) fail(file_, ":", line, ": key '", key, "' repeated (first at line ", it->second.line, ")");
  kv_[key] = Entry{value, line};
  order_.push_back(key);
}

const Section::Entry* Section::find(const std::string& key) const {
  if (std::find(allowed_.begin(), allowed_.end(), key) == allowed_.end()) allowed_.push_back(key);
  auto it = kv_.find(key);
  if (it == kv_.end()) return nullptr;
  it->second.used = true;
  return &it->second;
}

void Section::fail_key(const std::string& key, const std::string& msg) const {
  auto it = kv_.find(key);
  if (it == kv_.end()) fail(where(), ": ", key, ": ", msg);
  std::string sec = type_.empty() ? "" : cat(" [", type_, "]");
  fail(file_, ":", it->second.line, sec, " ", key, "=", it->second.value, ": ", msg);
}

void Section::fail_section(const std::string& msg) const { fail(where(), ": ", msg); }

std::string Section::get_str(const std::string& key) const {
  const Entry* e = find(key);
  if (!e) fail_section(cat("missing required key '", key, "'"));
  return e->value;
}

std::string Section::get_str(const std::string& key, const std::string& def) const {
  const Entry* e = find(key);
  return e ? e->value : def;
}

int Section::get_int(const std::string& key) const {
  get_str(key);
  return get_int(key, 0);
}

int Section::get_int(const std::string& key, int def) const {
  const Entry* e = find(key);
  if (!e) return def;
  int v = 0;
  switch (parse_int(e->value, v)) {
    case IntParse::Ok: return v;
    case IntParse::NotInt: fail_key(key, "expected an integer");
    case IntParse::OutOfRange: fail_key(key, kIntRange);
  }
  return v;
}

float Section::get_float(const std::string& key, float def) const {
  const Entry* e = find(key);
  if (!e) return def;
  char* end = nullptr;
  float v = std::strtof(e->value.c_str(), &end);
  if (e->value.empty() || *end || !std::isfinite(v)) fail_key(key, "expected a number");
  return v;
}

bool Section::get_bool(const std::string& key, bool def) const {
  const Entry* e = find(key);
  if (!e) return def;
  if (e->value == "1") return true;
  if (e->value == "0") return false;
  fail_key(key, "expected 0 or 1");
}

std::vector<std::string> Section::get_strs(const std::string& key, const std::vector<std::string>& def) const {
  const Entry* e = find(key);
  return e ? split_list(e->value) : def;
}

std::vector<int> Section::get_ints(const std::string& key, const std::vector<int>& def) const {
  const Entry* e = find(key);
  if (!e) return def;
  std::vector<int> out;
  for (const std::string& s : split_list(e->value)) {
    int v = 0;
    switch (parse_int(s, v)) {
      case IntParse::Ok: break;
      case IntParse::NotInt: fail_key(key, cat("expected comma-separated integers, '", s, "' is not one"));
      case IntParse::OutOfRange: fail_key(key, cat("'", s, "' is ", kIntRange));
    }
    out.push_back(v);
  }
  return out;
}

std::vector<float> Section::get_floats(const std::string& key, const std::vector<float>& def) const {
  const Entry* e = find(key);
  if (!e) return def;
  std::vector<float> out;
  for (const std::string& s : split_list(e->value)) {
    char* end = nullptr;
    float v = std::strtof(s.c_str(), &end);
    if (s.empty() || *end || !std::isfinite(v)) fail_key(key, cat("expected comma-separated numbers, '", s, "' is not one"));
    out.push_back(v);
  }
  return out;
}

std::string Section::get_choice(const std::string& key, const std::string& def,
                                const std::vector<std::string>& allowed) const {
  std::string v = get_str(key, def);
  if (std::find(allowed.begin(), allowed.end(), v) != allowed.end()) return v;
  std::string list;
  for (const auto& a : allowed) list += (list.empty() ? "" : " | ") + a;
  fail_key(key, cat("allowed values: ", list));
}

std::vector<std::string> Section::unused_keys() const {
  std::vector<std::string> out;
  for (const std::string& k : order_)
    if (!kv_.at(k).used) out.push_back(k);
  return out;
}

std::vector<std::string> Section::check_unused(const std::string& context,
                                               const std::vector<std::string>& tolerated_prefixes) const {
  std::vector<std::string> unused, tolerated;
  for (const std::string& k : unused_keys()) {
    bool ok = std::any_of(tolerated_prefixes.begin(), tolerated_prefixes.end(),
                          [&](const std::string& p) { return k.rfind(p, 0) == 0; });
    (ok ? tolerated : unused).push_back(k);
  }
  if (unused.empty()) return tolerated;
  std::string allowed;
  for (const auto& a : allowed_) allowed += (allowed.empty() ? "" : ", ") + a;
  fail_key(unused.front(), cat("unknown or unused key", context.empty() ? "" : " (" + context + ")",
                               "; keys read here: ", allowed.empty() ? "(none)" : allowed));
}

std::vector<Section> parse_cfg_text(const std::string& text, const std::string& name) { return parse(text, name, false); }
std::vector<Section> parse_cfg(const std::string& path) { return parse(read_file(path), path, false); }
Section parse_kv(const std::string& path) { return std::move(parse(read_file(path), path, true).front()); }

}  // namespace mabdet
