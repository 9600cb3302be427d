#include "sweep_command.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <thread>

#include "config/sweep_config.hpp"
#include "io/output_file.hpp"
#include "numerics/error.hpp"
#include "sweep/evaluate.hpp"
#include "sweep/points.hpp"
#include "sweep/report.hpp"
#include "sweep/runner.hpp"
#include "sweep/store.hpp"

#ifndef QUASAR_VERSION
#define QUASAR_VERSION "unknown"
#endif

namespace quasar::app {
namespace {

// "i/N" -> (i, N), 0 <= i < N.
std::pair<std::uint64_t, std::uint64_t> parse_shard(const std::string& s) {
  const auto slash = s.find('/');
  try {
    if (slash == std::string::npos) throw std::invalid_argument(s);
    const std::uint64_t i = std::stoull(s.substr(0, slash)), n = std::stoull(s.substr(slash + 1));
    if (n == 0 || i >= n) throw std::invalid_argument(s);
    return {i, n};
  } catch (const std::exception&) {
    throw Error("--shard '" + s + "': expected i/N with 0 <= i < N, e.g. 0/4");
  }
}

sweep::SweepSpec stored_spec(const sweep::Store& st, const std::string& path) {
  const std::string text = st.spec_text();
  if (text.empty()) throw Error(path + ": not a sweep store (no spec recorded)");
  return config::parse_sweep_spec(text, path + " (the spec stored with the results)",
                                  st.spec_dir());
}

std::string absolute(const std::string& p) { return std::filesystem::absolute(p).string(); }

}  // namespace

std::function<int()> add_sweep_command(CLI::App& app) {
  struct Args {
    std::string spec, store, shard, report_store, plots, export_store, format = "csv", out;
    std::string merge_out;
    std::vector<std::string> sets;
    std::vector<std::string> merge_in;
    std::string submit_spec, dir, partition;
    unsigned jobs = std::max(1u, std::thread::hardware_concurrency());
    unsigned tasks = 4, cpus = 1;
    bool slurm = false, dry_run = false, no_progress = false;
  };
  auto a = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand(
      "sweep",
      "Design-space sweep from a YAML spec (docs/sweeps.md): run, report, export, merge, submit");
  cmd->add_option("spec", a->spec, "Sweep spec (configs/sweeps/*.yaml) to run or resume");
  cmd->add_option("--store", a->store, "Result store (SQLite); default NAME.sweep.db here");
  cmd->add_option("--set", a->sets,
                  "Set a key on every point, KEY.PATH=VALUE (repeatable; a one-value axis, "
                  "checked like the spec's): --set process.node_nm=16 --set workload.batch=8");
  cmd->add_option("-j,--jobs", a->jobs, "Points simulated at once (default: every core)");
  cmd->add_option("--shard", a->shard,
                  "Run only shard i of N (i/N); default from SLURM_ARRAY_TASK_ID/COUNT when set");
  cmd->add_flag("--no-progress", a->no_progress, "No progress bar");

  CLI::App* rep = cmd->add_subcommand("report", "Pareto front and best points of a store");
  rep->add_option("store", a->report_store, "Result store")->required()->check(CLI::ExistingFile);
  rep->add_option("--plots", a->plots, "Also draw pareto/sensitivity PNG+SVG into this folder");

  CLI::App* exp = cmd->add_subcommand("export", "Every stored point as CSV or JSON");
  exp->add_option("store", a->export_store, "Result store")->required()->check(CLI::ExistingFile);
  exp->add_option("--format", a->format, "csv or json")
      ->check(CLI::IsMember({"csv", "json"}))
      ->capture_default_str();
  exp->add_option("-o,--out", a->out, "Write here instead of stdout");

  CLI::App* mrg = cmd->add_subcommand("merge", "Combine shard stores into one (idempotent)");
  mrg->add_option("out", a->merge_out, "Merged store (created if missing)")->required();
  mrg->add_option("inputs", a->merge_in, "Shard stores")->required()->check(CLI::ExistingFile);

  CLI::App* sub = cmd->add_subcommand("submit", "Run a sweep as a Slurm job array + merge job");
  sub->add_option("spec", a->submit_spec, "Sweep spec")->required()->check(CLI::ExistingFile);
  sub->add_flag("--slurm", a->slurm, "Submit to Slurm with sbatch (the only scheduler today)")
      ->required();
  sub->add_option("--tasks", a->tasks, "Array tasks (shards)")->capture_default_str();
  sub->add_option("--cpus", a->cpus, "CPUs per task (its --jobs)")->capture_default_str();
  sub->add_option("--partition", a->partition, "Slurm partition (default: the cluster's)");
  sub->add_option("--dir", a->dir, "Folder for shards, logs and sweep.db (default NAME.sweep)");
  sub->add_flag("--dry-run", a->dry_run, "Print the scripts instead of submitting");

  return [a, rep, exp, mrg, sub]() {
    if (rep->parsed()) {
      sweep::Store st(a->report_store, sweep::Store::Mode::read_only);
      const sweep::SweepSpec s = stored_spec(st, a->report_store);
      const auto pts = st.all();
      sweep::print_sweep_report(std::cout, s, pts);
      if (!a->plots.empty()) {
        sweep::draw_plots(s, pts, a->plots);
        std::cout << "\nplots: " << a->plots << "/pareto.{png,svg}, " << a->plots
                  << "/sensitivity.{png,svg}\n";
      }
      return 0;
    }
    if (exp->parsed()) {
      sweep::Store st(a->export_store, sweep::Store::Mode::read_only);
      auto fill = [&](std::ostream& os) {
        if (a->format == "json") {
          sweep::export_json(os, st.all());
        } else {
          sweep::export_csv(os, st.all());
        }
      };
      if (a->out.empty()) {
        fill(std::cout);
      } else {
        io::write_file_with(a->out, fill);
      }
      return 0;
    }
    if (mrg->parsed()) {
      // Every input must be a store before the output is created or touched.
      for (const std::string& in : a->merge_in) {
        const sweep::Store check(in, sweep::Store::Mode::read_only);
        if (check.sweep_name().empty()) throw Error(in + ": not a sweep store (no sweep recorded)");
      }
      sweep::Store out(a->merge_out);
      std::uint64_t added = 0;
      for (const std::string& in : a->merge_in) added += out.merge_from(in);
      std::cout << "merged " << a->merge_in.size() << " stores into " << a->merge_out << ": "
                << added << " new points, " << out.count() << " in all\n";
      return 0;
    }
    if (sub->parsed()) {
      const sweep::SweepSpec s = config::read_sweep_spec(a->submit_spec);
      sweep::SlurmJob j;
      j.quasar = std::filesystem::canonical("/proc/self/exe").string();
      j.spec = absolute(a->submit_spec);
      j.dir = absolute(a->dir.empty() ? s.name + ".sweep" : a->dir);
      j.tasks = std::max(1u, a->tasks);
      j.cpus = std::max(1u, a->cpus);
      j.partition = a->partition;
      const std::string array = sweep::slurm_array_script(j), merge = sweep::slurm_merge_script(j);
      if (a->dry_run) {
        std::cout << "# array job (sbatch)\n"
                  << array << "\n# merge job (sbatch --dependency=afterok:ARRAY_JOB)\n"
                  << merge;
        return 0;
      }
      std::filesystem::create_directories(j.dir + "/logs");
      io::write_file(j.dir + "/array.sbatch", array);
      io::write_file(j.dir + "/merge.sbatch", merge);
      auto sbatch = [](const std::string& args) {
        const std::string line = "sbatch --parsable " + args;
        FILE* p = ::popen(line.c_str(), "r");
        if (!p) throw Error("cannot run sbatch");
        char buf[256] = {0};
        const bool got = std::fgets(buf, sizeof buf, p) != nullptr;
        const int rc = ::pclose(p);
        std::string id = got ? std::string(buf) : "";
        while (!id.empty() && (id.back() == '\n' || id.back() == '\r')) id.pop_back();
        id = id.substr(0, id.find(';'));
        if (rc != 0 || id.empty())
          throw Error("sbatch failed (" + line + "): is Slurm installed and SLURM_CONF set?");
        return id;
      };
      const std::string array_id = sbatch("'" + j.dir + "/array.sbatch'");
      const std::string merge_id =
          sbatch("--dependency=afterok:" + array_id + " '" + j.dir + "/merge.sbatch'");
      std::cout << "submitted array job " << array_id << " (" << j.tasks
                << " shards) and merge job " << merge_id << "; results: " << j.dir << "/sweep.db\n";
      return 0;
    }
    if (a->spec.empty())
      throw Error("quasar sweep: give a sweep spec (or: report, export, merge, submit)");
    const sweep::SweepSpec s = config::read_sweep_spec(a->spec, a->sets);
    std::vector<sweep::Point> points =
        sweep::enumerate_points(s, std::string(QUASAR_VERSION) + ", " + sweep::model_fingerprint());
    std::string shard = a->shard;
    if (shard.empty()) {
      const char* id = std::getenv("SLURM_ARRAY_TASK_ID");
      const char* n = std::getenv("SLURM_ARRAY_TASK_COUNT");
      if (id && n) shard = std::string(id) + "/" + n;
    }
    if (!shard.empty()) {
      const auto [i, n] = parse_shard(shard);
      points = sweep::shard_points(points, i, n);
    }
    const std::string store_path = a->store.empty() ? s.name + ".sweep.db" : a->store;
    sweep::Store st(store_path);
    st.bind_sweep(s.name, s.text,
                  std::filesystem::absolute(a->spec).parent_path().lexically_normal().string());
    sweep::RunOptions o;
    o.jobs = a->jobs;
    o.progress = a->no_progress ? io::ProgressLine::Mode::off : io::ProgressLine::Mode::automatic;
    const sweep::RunSummary r = sweep::run_sweep(s, points, st, o);
    if (r.interrupted) {
      std::cerr << "quasar sweep: interrupted: " << r.ran << " points of this run are in "
                << store_path << " (" << r.already << " were already), " << r.not_run
                << " not run; the same command resumes\n";
      return 130;
    }
    std::cout << "sweep " << s.name << ": " << r.points << " points"
              << (shard.empty() ? "" : " (shard " + shard + ")") << "; " << r.already
              << " already in " << store_path << ", " << r.ran << " simulated (" << r.failed
              << " failed), " << r.skipped << " skipped by constraints\n";
    for (const std::string& f : r.failures) std::cerr << "quasar sweep: failed: " << f << "\n";
    if (r.failed > r.failures.size())
      std::cerr << "quasar sweep: " << r.failed - r.failures.size()
                << " more failed (quasar sweep report " << store_path << ")\n";
    return r.failed ? 1 : 0;
  };
}

}  // namespace quasar::app
