#include "sweep/runner.hpp"

#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <iostream>
#include <nlohmann/json.hpp>

#include "io/child_process.hpp"
#include "io/progress.hpp"
#include "numerics/error.hpp"
#include "sweep/evaluate.hpp"

namespace quasar::sweep {
namespace {

struct Child {
  pid_t pid = -1;
  int fd = -1;
  const Point* point = nullptr;
  std::string out;
};

std::string encode(const StoredPoint& p) {
  nlohmann::json j = {{"status", p.status},
                      {"error", p.error},
                      {"metrics", p.metrics_json},
                      {"report", p.report_json}};
  return j.dump();
}

Child spawn(const SweepSpec& s, const Point& p) {
  int fds[2];
  if (::pipe(fds) != 0) throw Error(std::string("sweep: pipe failed: ") + std::strerror(errno));
  std::cout.flush();
  std::cerr.flush();
  const pid_t pid = ::fork();
  if (pid < 0) throw Error(std::string("sweep: fork failed: ") + std::strerror(errno));
  if (pid == 0) {
    ::close(fds[0]);
    std::signal(SIGINT, SIG_DFL);  // the parent decides what an interrupt keeps
    // The child simulates one point (SystemC elaborates once per process) and reports it.
    std::string msg;
    try {
      msg = encode(evaluate_point(s, p));
    } catch (...) {
      StoredPoint e;
      e.status = "error";
      e.error = "unexpected failure while evaluating the point";
      msg = encode(e);
    }
    io::write_all(fds[1], msg);
    ::close(fds[1]);
    ::_exit(0);
  }
  ::close(fds[1]);
  Child c;
  c.pid = pid;
  c.fd = fds[0];
  c.point = &p;
  return c;
}

StoredPoint finish(Child& c) {
  int status = 0;
  while (::waitpid(c.pid, &status, 0) < 0 && errno == EINTR) {
  }
  StoredPoint p = stored_header(*c.point);
  try {
    if (c.out.empty()) throw std::runtime_error("no result");
    const nlohmann::json j = nlohmann::json::parse(c.out);
    p.status = j.at("status").get<std::string>();
    p.error = j.at("error").get<std::string>();
    p.metrics_json = j.at("metrics").get<std::string>();
    p.report_json = j.at("report").get<std::string>();
  } catch (const std::exception&) {
    p.status = "error";
    p.error = WIFSIGNALED(status)
                  ? "the point's process was killed by signal " + std::to_string(WTERMSIG(status))
                  : "the point's process exited with status " +
                        std::to_string(WEXITSTATUS(status)) + " without a result";
  }
  return p;
}

// Set by SIGINT while run_sweep runs: stop starting points, keep what finished.
volatile std::sig_atomic_t g_interrupted = 0;
extern "C" void on_sweep_interrupt(int) { g_interrupted = 1; }

}  // namespace

RunSummary run_sweep(const SweepSpec& s, const std::vector<Point>& points, Store& store,
                     const RunOptions& opt) {
  RunSummary sum;
  sum.points = points.size();
  std::deque<const Point*> todo;
  for (const Point& p : points) {
    if (store.has(p.id)) {
      ++sum.already;
      continue;
    }
    const std::string why = constraint_violation(s, p);
    if (!why.empty()) {
      StoredPoint sp = stored_header(p);
      sp.status = "skipped";
      sp.error = why;
      store.put(sp);
      ++sum.skipped;
      continue;
    }
    todo.push_back(&p);
  }
  // A child's pipe closing early must not kill the parent.
  std::signal(SIGPIPE, SIG_IGN);
  // Ctrl-C: no new point starts, the running ones are stopped and not stored, and every point
  // finished before is in the store already (each is committed on its own).
  g_interrupted = 0;
  const auto old_int = std::signal(SIGINT, on_sweep_interrupt);
  // Tests interrupt after N stored points, deterministically (QUASAR_TEST_INTERRUPT_AFTER=N).
  std::uint64_t interrupt_after = 0;
  if (const char* e = std::getenv("QUASAR_TEST_INTERRUPT_AFTER")) interrupt_after = std::strtoull(e, nullptr, 10);
  io::ProgressLine bar("quasar sweep", opt.progress);
  const auto total = todo.size();
  std::vector<Child> running;
  const unsigned jobs = std::max(1u, opt.jobs);
  std::uint64_t done = 0, stopped = 0;
  const auto t0 = std::chrono::steady_clock::now();
  while (!todo.empty() || !running.empty()) {
    if (g_interrupted) {
      for (Child& c : running) {
        ::kill(c.pid, SIGTERM);
        ::close(c.fd);
        int status = 0;
        while (::waitpid(c.pid, &status, 0) < 0 && errno == EINTR) {
        }
      }
      sum.interrupted = true;
      sum.not_run = todo.size() + running.size() + stopped;
      break;
    }
    while (running.size() < jobs && !todo.empty()) {
      running.push_back(spawn(s, *todo.front()));
      todo.pop_front();
    }
    std::vector<pollfd> fds;
    for (const Child& c : running) fds.push_back({c.fd, POLLIN, 0});
    if (::poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      throw Error(std::string("sweep: poll failed: ") + std::strerror(errno));
    }
    for (std::size_t i = running.size(); i-- > 0;) {
      if (g_interrupted) break;  // the loop's top stops the rest
      if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      char buf[65536];
      const ssize_t n = ::read(running[i].fd, buf, sizeof buf);
      if (n > 0) {
        running[i].out.append(buf, static_cast<std::size_t>(n));
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      ::close(running[i].fd);
      const StoredPoint p = finish(running[i]);
      if (g_interrupted && p.status != "ok") {  // stopped by the interrupt: not a result
        ++stopped;
        running.erase(running.begin() + static_cast<std::ptrdiff_t>(i));
        continue;
      }
      store.put(p);  // committed before the next point is looked at
      ++sum.ran;
      if (p.status != "ok") {
        ++sum.failed;
        if (sum.failures.size() < RunSummary::kFailuresShown)
          sum.failures.push_back("point " + std::to_string(p.index) + " (" + p.design +
                                 "): " + p.error);
      }
      running.erase(running.begin() + static_cast<std::ptrdiff_t>(i));
      ++done;
      const double secs =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      char detail[160];
      std::snprintf(detail, sizeof detail, "%llu/%llu points, %llu failed, %.2f points/s",
                    static_cast<unsigned long long>(done), static_cast<unsigned long long>(total),
                    static_cast<unsigned long long>(sum.failed),
                    secs > 0 ? static_cast<double>(done) / secs : 0.0);
      bar.update(total ? static_cast<double>(done) / static_cast<double>(total) : 1.0, detail);
      if (interrupt_after && sum.ran == interrupt_after) std::raise(SIGINT);
    }
  }
  bar.finish();
  std::signal(SIGINT, old_int);
  return sum;
}

}  // namespace quasar::sweep
