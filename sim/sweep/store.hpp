// The result store of a sweep: one SQLite file in WAL mode, one transaction per finished
// point, so a crash loses no finished point and a re-run skips them. Points are keyed by
// their identity (points.hpp); merging stores is idempotent.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace quasar::sweep {

struct StoredPoint {
  std::string id;
  std::uint64_t index = 0;
  std::string design, workload, settings_json, status;  // status: ok | error | skipped
  std::string error;                                    // why (error or skipped)
  std::string metrics_json, report_json;
};

class Store {
 public:
  enum class Mode {
    write,     // creates the file and schema when new
    read_only  // an existing sweep store, opened read-only; anything else is refused untouched
  };
  explicit Store(const std::string& path, Mode mode = Mode::write);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // The sweep it belongs to: set once; a store of another sweep is refused.
  void bind_sweep(const std::string& name, const std::string& spec_text,
                  const std::string& spec_dir);
  std::string sweep_name() const;
  std::string spec_text() const;
  std::string spec_dir() const;  // the folder relative paths in the spec are relative to

  bool has(const std::string& id) const;
  void put(const StoredPoint& p);        // one transaction; an existing id is left as it is
  std::vector<StoredPoint> all() const;  // by index, then id
  std::uint64_t count() const;
  // Copies every point of `other` not already here; returns how many were new.
  std::uint64_t merge_from(const std::string& other_path);

 private:
  void exec(const std::string& sql) const;
  std::string meta(const std::string& key) const;
  std::string path_;
  void* db_ = nullptr;  // sqlite3*
};

}  // namespace quasar::sweep
