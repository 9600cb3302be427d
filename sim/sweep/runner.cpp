#include "sweep/runner.hpp"

#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <deque>
#include <iostream>
#include <nlohmann/json.hpp>

#include "io/child_process.hpp"
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

class ProgressBar {
 public:
  ProgressBar(bool on, std::uint64_t total) : on_(on), total_(total) {}
  void update(std::uint64_t done, std::uint64_t failed) {
    if (!on_) return;
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count();
    const double rate = s > 0 ? static_cast<double>(done) / s : 0.0;
    const double eta = rate > 0 ? static_cast<double>(total_ - done) / rate : 0.0;
    const int width = 30;
    const int fill = total_ ? static_cast<int>(width * done / total_) : width;
    std::fprintf(stderr, "\r[%-*s] %llu/%llu points, %llu failed, %.2f points/s, ETA %.0f s ",
                 width, std::string(static_cast<std::size_t>(fill), '#').c_str(),
                 static_cast<unsigned long long>(done), static_cast<unsigned long long>(total_),
                 static_cast<unsigned long long>(failed), rate, eta);
    if (done == total_) std::fprintf(stderr, "\n");
    std::fflush(stderr);
  }

 private:
  bool on_;
  std::uint64_t total_;
  std::chrono::steady_clock::time_point t0_ = std::chrono::steady_clock::now();
};

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
  ProgressBar bar(opt.progress, todo.size());
  std::vector<Child> running;
  const unsigned jobs = std::max(1u, opt.jobs);
  std::uint64_t done = 0;
  while (!todo.empty() || !running.empty()) {
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
      store.put(p);  // committed before the next point is looked at
      ++sum.ran;
      if (p.status != "ok") {
        ++sum.failed;
        if (sum.failures.size() < RunSummary::kFailuresShown)
          sum.failures.push_back("point " + std::to_string(p.index) + " (" + p.design +
                                 "): " + p.error);
      }
      running.erase(running.begin() + static_cast<std::ptrdiff_t>(i));
      bar.update(++done, sum.failed);
    }
  }
  return sum;
}

}  // namespace quasar::sweep
