// A read-only view of one YAML value that knows where it came from (file, line, key path), so
// every error about a config or trace names file:line and the key and says what is accepted.
// This folder is the only code that includes yaml-cpp; the rest of quasar sees only this.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace YAML {
class Node;
}

namespace quasar::config {

// The one YAML document of `text` (a null node for an empty file). A second document, even an
// empty one after a trailing '---', is an error "SOURCE:LINE: holds N YAML documents; ...": YAML
// parsers otherwise keep the first and drop the rest silently. For sim/config's code that edits
// YAML trees (sweep overrides); everything else reads through Value.
YAML::Node load_one_document(const std::string& text, const std::string& source);

class Value {
 public:
  // Throws quasar::Error "FILE:LINE: YAML syntax error: ..." for malformed YAML, and for a file
  // of more than one YAML document (load_one_document).
  static Value load_file(const std::string& path);
  static Value load_string(const std::string& text, const std::string& source);

  bool is_map() const;
  bool is_seq() const;
  bool is_scalar() const;
  bool is_null() const;

  // Mappings. at() requires the key; find() returns nullopt when absent.
  bool has(const std::string& key) const;
  Value at(const std::string& key) const;
  std::optional<Value> find(const std::string& key) const;
  std::vector<std::string> keys() const;  // in file order
  // Every key must be one of `allowed`; an unknown key is an error listing the accepted ones.
  void require_keys_in(const std::vector<std::string>& allowed) const;

  // Sequences.
  std::size_t size() const;
  Value operator[](std::size_t i) const;

  // Scalars, each checked: a wrong type or a value out of range is an error naming the key.
  std::string as_string() const;
  std::int64_t as_int(std::int64_t min, std::int64_t max) const;
  std::uint64_t as_uint(std::uint64_t min = 0, std::uint64_t max = UINT64_MAX) const;
  double as_double() const;  // finite: .nan and .inf are errors
  bool as_bool() const;
  std::string as_choice(const std::vector<std::string>& accepted) const;

  int line() const;                                  // 1-based, 0 when unknown
  const std::string& path() const { return path_; }  // e.g. "layers[3].params.group_size"
  const std::string& file() const;
  std::string where() const;  // "FILE:LINE: PATH"
  [[noreturn]] void fail(const std::string& message) const;

  struct Impl;

 private:
  Value(std::shared_ptr<const Impl> impl, std::string path);
  std::string key_text(const void* key_node) const;  // the key's text, or an error if not scalar
  std::shared_ptr<const Impl> impl_;
  std::string path_;
};

}  // namespace quasar::config
