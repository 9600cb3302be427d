#include "sweep/store.hpp"

#include <sqlite3.h>

#include <filesystem>

#include "numerics/error.hpp"

namespace quasar::sweep {
namespace {

sqlite3* as_db(void* p) { return static_cast<sqlite3*>(p); }

// A prepared statement that finalizes itself.
class Stmt {
 public:
  Stmt(sqlite3* db, const std::string& sql, const std::string& path) : db_(db), path_(path) {
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &s_, nullptr) != SQLITE_OK) fail();
  }
  ~Stmt() { sqlite3_finalize(s_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  void bind(int i, const std::string& v) {
    if (sqlite3_bind_text(s_, i, v.c_str(), static_cast<int>(v.size()), SQLITE_TRANSIENT) !=
        SQLITE_OK)
      fail();
  }
  void bind(int i, std::uint64_t v) {
    if (sqlite3_bind_int64(s_, i, static_cast<sqlite3_int64>(v)) != SQLITE_OK) fail();
  }
  bool step() {
    const int rc = sqlite3_step(s_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    fail();
    return false;
  }
  std::string text(int col) const {
    const unsigned char* t = sqlite3_column_text(s_, col);
    return t ? reinterpret_cast<const char*>(t) : "";
  }
  std::uint64_t u64(int col) const {
    return static_cast<std::uint64_t>(sqlite3_column_int64(s_, col));
  }
  [[noreturn]] void fail() const { throw Error(path_ + ": SQLite error: " + sqlite3_errmsg(db_)); }

 private:
  sqlite3* db_;
  std::string path_;
  sqlite3_stmt* s_ = nullptr;
};

}  // namespace

Store::Store(const std::string& path, Mode mode) : path_(path) {
  sqlite3* db = nullptr;
  if (mode == Mode::read_only && !std::filesystem::is_regular_file(path))
    throw Error(path + ": no such sweep store");
  const int flags =
      mode == Mode::read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
  if (sqlite3_open_v2(path.c_str(), &db, flags, nullptr) != SQLITE_OK) {
    const std::string why = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    throw Error(path + ": cannot open the result store: " + why);
  }
  db_ = db;
  sqlite3_busy_timeout(db, 10000);
  if (mode == Mode::read_only) {
    // Reading must not turn some other file into a store: check the schema, change nothing.
    bool tables = false;
    try {
      Stmt s(as_db(db_),
             "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ('meta', "
             "'points')",
             path_);
      tables = s.step() && s.u64(0) == 2;
    } catch (const Error&) {
      tables = false;  // not an SQLite database at all
    }
    if (!tables) {
      sqlite3_close(as_db(db_));
      db_ = nullptr;
      throw Error(path + ": not a sweep store (no meta and points tables)");
    }
    return;
  }
  // WAL: a commit is durable against a killed process; readers never block the writer.
  exec("PRAGMA journal_mode=WAL");
  exec("PRAGMA synchronous=NORMAL");
  exec("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)");
  exec(
      "CREATE TABLE IF NOT EXISTS points (id TEXT PRIMARY KEY, idx INTEGER NOT NULL, design TEXT "
      "NOT NULL, workload TEXT NOT NULL, settings TEXT NOT NULL, status TEXT NOT NULL, error TEXT "
      "NOT NULL, metrics TEXT NOT NULL, report TEXT NOT NULL)");
}

Store::~Store() { sqlite3_close(as_db(db_)); }

void Store::exec(const std::string& sql) const {
  char* err = nullptr;
  if (sqlite3_exec(as_db(db_), sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    const std::string why = err ? err : "unknown";
    sqlite3_free(err);
    throw Error(path_ + ": SQLite error: " + why + " (in: " + sql.substr(0, 60) + ")");
  }
}

std::string Store::meta(const std::string& key) const {
  Stmt s(as_db(db_), "SELECT value FROM meta WHERE key = ?", path_);
  s.bind(1, key);
  return s.step() ? s.text(0) : "";
}

void Store::bind_sweep(const std::string& name, const std::string& spec_text,
                       const std::string& spec_dir) {
  const std::string have = meta("sweep");
  if (!have.empty() && have != name) {
    throw Error(path_ + ": this store holds sweep '" + have + "', not '" + name +
                "' (use another --store)");
  }
  Stmt s(
      as_db(db_),
      "INSERT OR REPLACE INTO meta (key, value) VALUES ('sweep', ?), ('spec', ?), ('spec_dir', ?)",
      path_);
  s.bind(1, name);
  s.bind(2, spec_text);
  s.bind(3, spec_dir);
  s.step();
}

std::string Store::sweep_name() const { return meta("sweep"); }
std::string Store::spec_text() const { return meta("spec"); }
std::string Store::spec_dir() const { return meta("spec_dir"); }

bool Store::has(const std::string& id) const {
  Stmt s(as_db(db_), "SELECT 1 FROM points WHERE id = ?", path_);
  s.bind(1, id);
  return s.step();
}

void Store::put(const StoredPoint& p) {
  Stmt s(as_db(db_),
         "INSERT OR IGNORE INTO points (id, idx, design, workload, settings, status, error, "
         "metrics, report) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
         path_);
  s.bind(1, p.id);
  s.bind(2, p.index);
  s.bind(3, p.design);
  s.bind(4, p.workload);
  s.bind(5, p.settings_json);
  s.bind(6, p.status);
  s.bind(7, p.error);
  s.bind(8, p.metrics_json);
  s.bind(9, p.report_json);
  s.step();  // autocommit: one transaction per point
}

std::vector<StoredPoint> Store::all() const {
  Stmt s(as_db(db_),
         "SELECT id, idx, design, workload, settings, status, error, metrics, report FROM points "
         "ORDER BY idx, id",
         path_);
  std::vector<StoredPoint> out;
  while (s.step()) {
    StoredPoint p;
    p.id = s.text(0);
    p.index = s.u64(1);
    p.design = s.text(2);
    p.workload = s.text(3);
    p.settings_json = s.text(4);
    p.status = s.text(5);
    p.error = s.text(6);
    p.metrics_json = s.text(7);
    p.report_json = s.text(8);
    out.push_back(std::move(p));
  }
  return out;
}

std::uint64_t Store::count() const {
  Stmt s(as_db(db_), "SELECT COUNT(*) FROM points", path_);
  s.step();
  return s.u64(0);
}

std::uint64_t Store::merge_from(const std::string& other_path) {
  Store other(other_path, Mode::read_only);
  const std::string theirs = other.sweep_name();
  if (theirs.empty()) throw Error(other_path + ": not a sweep store (no sweep recorded)");
  bind_sweep(theirs, other.spec_text(), other.spec_dir());
  const std::uint64_t before = count();
  exec("BEGIN");
  try {
    for (const StoredPoint& p : other.all()) put(p);
    exec("COMMIT");
  } catch (...) {
    exec("ROLLBACK");
    throw;
  }
  return count() - before;
}

}  // namespace quasar::sweep
