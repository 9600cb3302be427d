#include "sweep/report.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "embedded_plots.hpp"
#include "io/output_file.hpp"
#include "numerics/error.hpp"
#include "report/text_format.hpp"

namespace quasar::sweep {
namespace {

using text::csv_field;
using text::shell_quote;

using ojson = nlohmann::ordered_json;

double metric(const StoredPoint& p, const std::string& m) {
  if (p.metrics_json.empty()) return std::nan("");
  const nlohmann::json j = nlohmann::json::parse(p.metrics_json);
  if (!j.contains(m) || !j.at(m).is_number()) return std::nan("");
  return j.at(m).get<double>();
}

// The Pareto front of the ok points, one front per workload (points of different workloads do
// not compete). `ok` receives the indices of the ok points.
std::vector<std::size_t> front_of(const SweepSpec& s, const std::vector<StoredPoint>& pts,
                                  std::vector<std::size_t>& ok) {
  std::vector<bool> minimize;
  for (const Objective& o : s.objectives) minimize.push_back(o.minimize);
  std::vector<std::string> workloads;
  for (std::size_t i = 0; i < pts.size(); ++i) {
    if (pts[i].status != "ok") continue;
    ok.push_back(i);
    if (std::find(workloads.begin(), workloads.end(), pts[i].workload) == workloads.end())
      workloads.push_back(pts[i].workload);
  }
  std::vector<std::size_t> f;
  for (const std::string& w : workloads) {
    std::vector<std::size_t> members;
    std::vector<std::vector<double>> vals;
    for (std::size_t i : ok) {
      if (pts[i].workload != w) continue;
      members.push_back(i);
      std::vector<double> v;
      for (const Objective& o : s.objectives) v.push_back(metric(pts[i], o.metric));
      vals.push_back(v);
    }
    for (std::size_t k : pareto_front(vals, minimize)) f.push_back(members[k]);
  }
  std::sort(f.begin(), f.end());
  return f;
}

}  // namespace

std::vector<std::size_t> pareto_front(const std::vector<std::vector<double>>& values,
                                      const std::vector<bool>& minimize) {
  auto better_or_equal = [&](const std::vector<double>& a, const std::vector<double>& b,
                             bool& strictly) {
    strictly = false;
    for (std::size_t k = 0; k < minimize.size(); ++k) {
      const double x = minimize[k] ? a[k] : -a[k], y = minimize[k] ? b[k] : -b[k];
      if (x > y) return false;
      if (x < y) strictly = true;
    }
    return true;
  };
  std::vector<std::size_t> front;
  for (std::size_t i = 0; i < values.size(); ++i) {
    bool finite = true;
    for (double v : values[i]) finite = finite && std::isfinite(v);
    if (!finite) continue;
    bool dominated = false;
    for (std::size_t j = 0; j < values.size() && !dominated; ++j) {
      if (j == i) continue;
      bool fin = true;
      for (double v : values[j]) fin = fin && std::isfinite(v);
      bool strictly = false;
      dominated = fin && better_or_equal(values[j], values[i], strictly) && strictly;
    }
    if (!dominated) front.push_back(i);
  }
  return front;
}

void export_csv(std::ostream& os, const std::vector<StoredPoint>& pts) {
  std::vector<std::string> keys;
  for (const StoredPoint& p : pts) {
    const ojson settings = ojson::parse(p.settings_json);  // outlives the loop over its items
    for (auto it = settings.begin(); it != settings.end(); ++it) {
      if (std::find(keys.begin(), keys.end(), it.key()) == keys.end()) keys.push_back(it.key());
    }
  }
  os << "id,index,design,workload";
  for (const std::string& k : keys) os << "," << csv_field(k);
  os << ",status,error";
  for (const std::string& m : metric_names()) os << "," << m;
  os << "\n";
  for (const StoredPoint& p : pts) {
    const nlohmann::json st = nlohmann::json::parse(p.settings_json);
    os << p.id << "," << p.index << "," << csv_field(p.design) << "," << csv_field(p.workload);
    for (const std::string& k : keys)
      os << "," << (st.contains(k) ? csv_field(st.at(k).get<std::string>()) : "");
    os << "," << p.status << "," << csv_field(p.error);
    for (const std::string& m : metric_names()) {
      const double v = metric(p, m);
      os << ",";
      if (std::isfinite(v)) os << fmt::format("{}", v);
    }
    os << "\n";
  }
}

void export_json(std::ostream& os, const std::vector<StoredPoint>& pts) {
  ojson a = ojson::array();
  for (const StoredPoint& p : pts) {
    a.push_back(
        {{"id", p.id},
         {"index", p.index},
         {"design", p.design},
         {"workload", p.workload},
         {"settings", ojson::parse(p.settings_json)},
         {"status", p.status},
         {"error", p.error},
         {"metrics", p.metrics_json.empty() ? ojson::object() : ojson::parse(p.metrics_json)}});
  }
  os << a.dump(1) << "\n";
}

void print_sweep_report(std::ostream& os, const SweepSpec& s, const std::vector<StoredPoint>& pts) {
  std::size_t ok = 0, err = 0, skipped = 0;
  for (const StoredPoint& p : pts) {
    ok += p.status == "ok";
    err += p.status == "error";
    skipped += p.status == "skipped";
  }
  os << fmt::format(
      "# Sweep {}\n\n{} points stored: {} ok, {} failed, {} skipped by constraints.\n\n", s.name,
      pts.size(), ok, err, skipped);
  for (const StoredPoint& p : pts) {
    if (p.status == "error")
      os << fmt::format("- failed: point {} ({}): {}\n", p.index, p.design, p.error);
  }
  if (err) os << "\n";
  if (s.objectives.empty()) {
    os << "The spec names no objectives: no Pareto front.\n";
    return;
  }
  std::vector<std::size_t> okidx;
  const std::vector<std::size_t> front = front_of(s, pts, okidx);
  auto row = [&](const StoredPoint& p) {
    std::string r = fmt::format("| {} | {} | {} |", p.index, p.design, p.settings_json);
    for (const Objective& o : s.objectives) r += fmt::format(" {:.6g} |", metric(p, o.metric));
    return r + "\n";
  };
  std::string head = "| point | design | settings |";
  std::string rule = "|---|---|---|";
  for (const Objective& o : s.objectives) {
    head += fmt::format(" {} ({}) |", o.metric, o.minimize ? "min" : "max");
    rule += "---|";
  }
  std::vector<std::string> workloads;
  for (std::size_t i : okidx)
    if (std::find(workloads.begin(), workloads.end(), pts[i].workload) == workloads.end())
      workloads.push_back(pts[i].workload);
  for (const std::string& w : workloads) {
    std::size_t n = 0;
    for (std::size_t i : front) n += pts[i].workload == w;
    os << "## Workload " << w << "\n\nPareto front (" << n << " points):\n\n"
       << head << "\n"
       << rule << "\n";
    for (std::size_t i : front)
      if (pts[i].workload == w) os << row(pts[i]);
    os << "\nBest per objective:\n\n| objective " << head << "\n|---" << rule << "\n";
    for (const Objective& o : s.objectives) {
      std::size_t best = pts.size();
      for (std::size_t i : okidx) {
        if (pts[i].workload != w) continue;
        const double v = metric(pts[i], o.metric);
        if (!std::isfinite(v)) continue;
        if (best == pts.size() ||
            (o.minimize ? v < metric(pts[best], o.metric) : v > metric(pts[best], o.metric)))
          best = i;
      }
      if (best < pts.size())
        os << "| " << (o.minimize ? "lowest " : "highest ") << o.metric << " " << row(pts[best]);
    }
    os << "\n";
  }
}

void draw_plots(const SweepSpec& s, const std::vector<StoredPoint>& pts, const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw Error(dir + ": cannot create the plot folder: " + ec.message());
  std::vector<std::size_t> okidx;
  const std::vector<std::size_t> front = front_of(s, pts, okidx);
  ojson a = ojson::array();
  for (std::size_t i = 0; i < pts.size(); ++i) {
    const StoredPoint& p = pts[i];
    a.push_back(
        {{"index", p.index},
         {"design", p.design},
         {"workload", p.workload},
         {"settings", ojson::parse(p.settings_json)},
         {"status", p.status},
         {"pareto", std::find(front.begin(), front.end(), i) != front.end()},
         {"metrics", p.metrics_json.empty() ? ojson::object() : ojson::parse(p.metrics_json)}});
  }
  const std::string json_file = dir + "/points.json";
  const std::string script = dir + "/.sweep_plots.py";
  io::write_file(json_file, a.dump(1) + "\n");
  io::write_file(script, kEmbeddedPlots[0].py);
  // Debian's interpreter first (python3-matplotlib installs there), unless QUASAR_PYTHON says.
  std::string python = "python3";
  if (const char* env = std::getenv("QUASAR_PYTHON")) {
    python = env;
  } else if (std::filesystem::exists("/usr/bin/python3")) {
    python = "/usr/bin/python3";
  }
  std::string cmd = shell_quote(python) + " " + shell_quote(script) + " " + shell_quote(json_file) +
                    " " + shell_quote(dir);
  for (const Objective& o : s.objectives)
    cmd += " " + shell_quote((o.minimize ? "min:" : "max:") + o.metric + ":" + metric_label(o.metric));
  const int rc = std::system((cmd + " 2> " + shell_quote(dir + "/plot-errors.txt")).c_str());
  std::filesystem::remove(script, ec);
  if (rc != 0) {
    std::ifstream e(dir + "/plot-errors.txt");
    std::string why((std::istreambuf_iterator<char>(e)), std::istreambuf_iterator<char>());
    throw Error(
        "plotting failed (python3 with matplotlib is needed: apt-get install "
        "python3-matplotlib): " +
        why.substr(0, 400));
  }
  std::filesystem::remove(dir + "/plot-errors.txt", ec);
}

std::string slurm_array_script(const SlurmJob& j) {
  std::string s = "#!/bin/bash\n";
  s += "#SBATCH --job-name=quasar-sweep\n";
  s += fmt::format("#SBATCH --array=0-{}\n", j.tasks - 1);
  s += fmt::format("#SBATCH --cpus-per-task={}\n", j.cpus);
  if (!j.partition.empty()) s += "#SBATCH --partition=" + j.partition + "\n";
  s += "#SBATCH --output=" + j.dir + "/logs/%A_%a.out\n";
  s += "# One shard of the sweep per array task, into its own store (quasar sweep merge combines "
       "them).\n";
  s += "set -euo pipefail\n";
  s += fmt::format(
      "exec {} sweep {} --store {}/shard-${{SLURM_ARRAY_TASK_ID}}.db --shard "
      "${{SLURM_ARRAY_TASK_ID}}/{} --jobs {}\n",
      shell_quote(j.quasar), shell_quote(j.spec), shell_quote(j.dir), j.tasks, j.cpus);
  return s;
}

std::string slurm_merge_script(const SlurmJob& j) {
  std::string s = "#!/bin/bash\n#SBATCH --job-name=quasar-sweep-merge\n";
  if (!j.partition.empty()) s += "#SBATCH --partition=" + j.partition + "\n";
  s += "#SBATCH --output=" + j.dir + "/logs/merge_%j.out\nset -euo pipefail\n";
  s += "exec " + shell_quote(j.quasar) + " sweep merge " + shell_quote(j.dir + "/sweep.db");
  for (unsigned t = 0; t < j.tasks; ++t)
    s += " " + shell_quote(fmt::format("{}/shard-{}.db", j.dir, t));
  return s + "\n";
}

}  // namespace quasar::sweep
