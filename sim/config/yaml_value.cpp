#include "yaml_value.hpp"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <limits>
#include <map>
#include <set>
#include <sstream>

#include "io/input_file.hpp"
#include "numerics/error.hpp"

namespace quasar::config {

struct Value::Impl {
  YAML::Node node;
  std::shared_ptr<const std::string> file;
};

namespace {

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

// YAML parsers keep one of two equal keys in a mapping (yaml-cpp: the first), so a repeated
// `clock_mhz:` would silently lose a value the user wrote. Refused, naming both lines. Nodes
// reached twice through an alias are walked once (`visited`, by position), so anchors cannot
// make this exponential.
void reject_duplicate_keys(const YAML::Node& n, const std::string& source, const std::string& path,
                           std::set<std::size_t>& visited) {
  if (!n.IsMap() && !n.IsSequence()) return;
  if (!visited.insert(static_cast<std::size_t>(n.Mark().pos)).second) return;
  if (n.IsSequence()) {
    std::size_t i = 0;
    for (const YAML::Node& e : n)
      reject_duplicate_keys(e, source, path + "[" + std::to_string(i++) + "]", visited);
    return;
  }
  std::map<std::string, int> first_line;
  for (const auto& kv : n) {
    if (!kv.first.IsScalar()) continue;  // refused where read (key_text)
    const std::string key = kv.first.Scalar();
    const std::string at = path.empty() ? key : path + "." + key;
    const int line = kv.first.Mark().line + 1;
    const auto [it, fresh] = first_line.emplace(key, line);
    if (!fresh) {
      throw Error(source + ":" + std::to_string(line) + ": " + at +
                  ": key given twice (first at line " + std::to_string(it->second) +
                  "); remove one");
    }
    reject_duplicate_keys(kv.second, source, at, visited);
  }
}

}  // namespace

// Mapping keys must be plain scalars: YAML allows `? [a, b]: v`, which nothing in quasar means.
namespace {

// Decodes the UTF-8 character at text[i] into `cp`, with `n` continuation bytes; false when the
// bytes there are not UTF-8 (overlong forms included).
bool decode_utf8(const std::string& text, std::size_t i, std::uint32_t& cp, std::size_t& n) {
  const auto c = static_cast<unsigned char>(text[i]);
  n = 0, cp = c;
  if (c < 0x80) return true;
  if ((c & 0xE0) == 0xC0) {
    n = 1, cp = c & 0x1Fu;
  } else if ((c & 0xF0) == 0xE0) {
    n = 2, cp = c & 0x0Fu;
  } else if ((c & 0xF8) == 0xF0) {
    n = 3, cp = c & 0x07u;
  } else {
    return false;
  }
  for (std::size_t k = 1; k <= n; ++k) {
    if (i + k >= text.size() || (static_cast<unsigned char>(text[i + k]) & 0xC0) != 0x80)
      return false;
    cp = (cp << 6) | (static_cast<unsigned char>(text[i + k]) & 0x3Fu);
  }
  return !((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000));
}

// A parsed scalar must be UTF-8 too: yaml-cpp 0.7 decodes the escapes \_ and \N of a
// double-quoted scalar to the single bytes 0xA0 and 0x85, not to their UTF-8 forms, and such a
// string cannot be written back as YAML (fuzz_manifest found it in a tensor name).
bool is_utf8(const std::string& s) {
  std::uint32_t cp = 0;
  std::size_t n = 0;
  for (std::size_t i = 0; i < s.size(); i += n + 1)
    if (!decode_utf8(s, i, cp, n)) return false;
  return true;
}

}  // namespace

std::string Value::key_text(const void* key_node) const {
  const YAML::Node& k = *static_cast<const YAML::Node*>(key_node);
  if (!k.IsScalar()) {
    Value(std::make_shared<const Impl>(Impl{k, impl_->file}), path_)
        .fail("mapping keys must be plain strings");
  }
  if (!is_utf8(k.Scalar())) {
    Value(std::make_shared<const Impl>(Impl{k, impl_->file}), path_)
        .fail("a key holds an escape that does not decode to UTF-8 (\\_ or \\N; write the "
              "character itself)");
  }
  return k.Scalar();
}

Value::Value(std::shared_ptr<const Impl> impl, std::string path)
    : impl_(std::move(impl)), path_(std::move(path)) {}

namespace {

// YAML is printable Unicode text (YAML 1.2, 5.1: tab, LF, CR, U+0020..U+007E, U+0085,
// U+00A0..U+D7FF, U+E000..U+FFFD, U+10000..U+10FFFF, in UTF-8): anything else is rejected here,
// naming the line, rather than parsed into strings that cannot be written back as the same YAML.
// (fuzz_manifest found both: bytes that are not UTF-8, and a NUL inside a name.)
void require_yaml_text(const std::string& text, const std::string& source) {
  int line = 1;
  for (std::size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    std::size_t n = 0;  // continuation bytes
    std::uint32_t cp = c;
    const bool ok = decode_utf8(text, i, cp, n);
    const bool printable = cp == 0x09 || cp == 0x0A || cp == 0x0D || (cp >= 0x20 && cp <= 0x7E) ||
                           cp == 0x85 || (cp >= 0xA0 && cp <= 0xD7FF) ||
                           (cp >= 0xE000 && cp <= 0xFFFD) || (cp >= 0x10000 && cp <= 0x10FFFF);
    if (!ok) {
      throw Error(source + ":" + std::to_string(line) + ": not UTF-8 text (byte " +
                  std::to_string(i) + "); YAML files must be UTF-8");
    }
    if (!printable) {
      char hex[16];
      std::snprintf(hex, sizeof hex, "U+%04X", static_cast<unsigned>(cp));
      throw Error(source + ":" + std::to_string(line) + ": character " + hex + " (byte " +
                  std::to_string(i) + ") is not allowed in YAML (control characters other than " +
                  "tab and line breaks)");
    }
    if (c == '\n') ++line;
    i += n + 1;
  }
}

// The 1-based line of the '---' that starts a document whose node yaml-cpp marks at 0-based line
// `mark` (its content, or the line after the marker for an empty document): the last marker at
// or before that line; the mark itself when there is none (a document after '...').
int document_start_line(const std::string& text, int mark) {
  int line = 0, found = 0;
  for (std::size_t i = 0; i < text.size() && line <= mark; ++line) {
    const std::size_t end = std::min(text.find('\n', i), text.size());
    if (text.compare(i, 3, "---") == 0 &&
        (i + 3 == end || std::isspace(static_cast<unsigned char>(text[i + 3]))))
      found = line + 1;
    i = end + 1;
  }
  return found ? found : mark + 1;
}

// Sees the parser's events of one document: where it starts and whether it holds anything
// beyond a null (an empty document after a trailing '---').
class DocumentProbe : public YAML::EventHandler {
 public:
  YAML::Mark first;
  bool seen = false, content = false;
  void OnDocumentStart(const YAML::Mark& m) override { note(m); }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& m, YAML::anchor_t) override { note(m); }
  void OnAlias(const YAML::Mark& m, YAML::anchor_t) override { note(m), content = true; }
  void OnScalar(const YAML::Mark& m, const std::string&, YAML::anchor_t,
                const std::string&) override {
    note(m), content = true;
  }
  void OnSequenceStart(const YAML::Mark& m, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {
    note(m), content = true;
  }
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark& m, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {
    note(m), content = true;
  }
  void OnMapEnd() override {}

 private:
  void note(const YAML::Mark& m) {
    if (!seen) first = m, seen = true;
  }
};

}  // namespace

YAML::Node load_one_document(const std::string& text, const std::string& source) {
  // YAML::Load returns the first document and drops the rest without a word, so a design or
  // trace pasted after another behind '---' would be ignored. Any second document is refused,
  // an empty one after a trailing '---' too: quasar cannot tell it from a cut-off file. The
  // documents are counted with the parser itself, up to kCounted: YAML::LoadAll never returns
  // on some malformed texts (yaml-cpp 0.7 on "," makes empty documents without end, memory
  // growing; found by tests/fuzz), so it is not used.
  constexpr int kCounted = 64;
  YAML::Node root;
  try {
    std::istringstream in(text);
    YAML::Parser parser(in);
    DocumentProbe one, two;
    if (parser.HandleNextDocument(one) && parser.HandleNextDocument(two)) {
      int docs = 2;
      bool empty = !two.content;
      for (DocumentProbe more; docs < kCounted && parser.HandleNextDocument(more); more = {}) {
        ++docs;
        empty = empty && !more.content;
      }
      const int line = document_start_line(text, two.first.is_null() ? 0 : two.first.line);
      if (docs == kCounted && empty) {
        // Not a file of many empty documents: the parser is stuck on text it cannot read.
        throw Error(source + ":" + std::to_string(two.first.line + 1) +
                    ": YAML syntax error: no document can be read from here on");
      }
      throw Error(source + ":" + std::to_string(line) + ": holds " + std::to_string(docs) +
                  (docs == kCounted ? " or more" : "") + " YAML documents" +
                  (empty ? " (an empty one after the '---' on this line)" : "") +
                  "; quasar reads one (remove the '---' on this line and what follows it" +
                  (empty ? "" : ", or put that document in its own file") + ")");
    }
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw Error(source + ":" + std::to_string(e.mark.line + 1) + ": YAML syntax error: " + e.msg);
  }
  return root;
}

Value Value::load_string(const std::string& text, const std::string& source) {
  require_yaml_text(text, source);
  auto file = std::make_shared<const std::string>(source);
  YAML::Node root = load_one_document(text, source);
  std::set<std::size_t> visited;
  reject_duplicate_keys(root, source, "", visited);
  return Value(std::make_shared<const Impl>(Impl{root, file}), "");
}

Value Value::load_file(const std::string& path) {
  return load_string(io::read_text_file(path, "YAML file"), path);
}

bool Value::is_map() const { return impl_->node.IsMap(); }
bool Value::is_seq() const { return impl_->node.IsSequence(); }
bool Value::is_scalar() const { return impl_->node.IsScalar(); }
bool Value::is_null() const { return !impl_->node || impl_->node.IsNull(); }

int Value::line() const {
  const YAML::Mark m = impl_->node.Mark();
  return m.is_null() ? 0 : m.line + 1;
}

const std::string& Value::file() const { return *impl_->file; }

std::string Value::where() const {
  std::string w = *impl_->file;
  if (line() > 0) w += ":" + std::to_string(line());
  if (!path_.empty()) w += ": " + path_;
  return w;
}

void Value::fail(const std::string& message) const { throw Error(where() + ": " + message); }

bool Value::has(const std::string& key) const { return is_map() && impl_->node[key]; }

std::optional<Value> Value::find(const std::string& key) const {
  if (!is_map()) fail("expected a mapping");
  const YAML::Node child = impl_->node[key];
  if (!child) return std::nullopt;
  return Value(std::make_shared<const Impl>(Impl{child, impl_->file}),
               path_.empty() ? key : path_ + "." + key);
}

Value Value::at(const std::string& key) const {
  std::optional<Value> v = find(key);
  if (!v) fail("missing required key '" + key + "'");
  return *v;
}

std::vector<std::string> Value::keys() const {
  if (!is_map()) fail("expected a mapping");
  std::vector<std::string> out;
  for (const auto& kv : impl_->node) out.push_back(key_text(&kv.first));
  return out;
}

void Value::require_keys_in(const std::vector<std::string>& allowed) const {
  for (const auto& kv : impl_->node) {
    const std::string key = key_text(&kv.first);
    bool ok = false;
    for (const auto& a : allowed) ok = ok || a == key;
    if (!ok) {
      const Value child(std::make_shared<const Impl>(Impl{kv.first, impl_->file}),
                        path_.empty() ? key : path_ + "." + key);
      child.fail("unknown key '" + key + "' (accepted: " + join(allowed) + ")");
    }
  }
}

std::size_t Value::size() const {
  if (!is_seq()) fail("expected a sequence");
  return impl_->node.size();
}

Value Value::operator[](std::size_t i) const {
  if (!is_seq()) fail("expected a sequence");
  return Value(std::make_shared<const Impl>(Impl{impl_->node[i], impl_->file}),
               path_ + "[" + std::to_string(i) + "]");
}

std::string Value::as_string() const {
  if (!is_scalar()) fail("expected a string");
  if (!is_utf8(impl_->node.Scalar()))
    fail("the string holds an escape that does not decode to UTF-8 (\\_ or \\N; write the "
         "character itself)");
  return impl_->node.Scalar();
}

std::int64_t Value::as_int(std::int64_t min, std::int64_t max) const {
  if (!is_scalar()) fail("expected an integer");
  std::int64_t v;
  try {
    std::size_t used = 0;
    const std::string s = impl_->node.Scalar();
    v = std::stoll(s, &used, 10);
    if (used != s.size()) throw std::invalid_argument(s);
  } catch (const std::exception&) {
    fail("'" + impl_->node.Scalar() + "' is not an integer");
  }
  if (v < min || v > max) {
    fail(std::to_string(v) + " is out of range; accepted: " + std::to_string(min) + ".." +
         std::to_string(max));
  }
  return v;
}

std::uint64_t Value::as_uint(std::uint64_t min, std::uint64_t max) const {
  if (!is_scalar()) fail("expected a non-negative integer");
  const std::string s = impl_->node.Scalar();
  std::uint64_t v;
  try {
    std::size_t used = 0;
    if (s.empty() || s[0] == '-') throw std::invalid_argument(s);
    v = std::stoull(s, &used, 10);
    if (used != s.size()) throw std::invalid_argument(s);
  } catch (const std::exception&) {
    fail("'" + s + "' is not a non-negative integer");
  }
  if (v < min || v > max) {
    fail(std::to_string(v) + " is out of range; accepted: " + std::to_string(min) + ".." +
         std::to_string(max));
  }
  return v;
}

// YAML spells NaN and the infinities .nan and .inf; no quasar setting means either, and a NaN
// compares false with everything, so it would slip past every range check after it.
double Value::as_double() const {
  if (!is_scalar()) fail("expected a number");
  double v = 0;
  try {
    v = impl_->node.as<double>();
  } catch (const YAML::Exception&) {
    fail("'" + impl_->node.Scalar() + "' is not a number");
  }
  if (!std::isfinite(v)) fail("'" + impl_->node.Scalar() + "' is not a finite number");
  return v;
}

bool Value::as_bool() const {
  if (!is_scalar()) fail("expected true or false");
  try {
    return impl_->node.as<bool>();
  } catch (const YAML::Exception&) {
    fail("'" + impl_->node.Scalar() + "' is not a boolean; accepted: true, false");
  }
}

std::string Value::as_choice(const std::vector<std::string>& accepted) const {
  const std::string s = as_string();
  for (const auto& a : accepted) {
    if (a == s) return s;
  }
  fail("'" + s + "' is not accepted; accepted: " + join(accepted));
}

}  // namespace quasar::config
