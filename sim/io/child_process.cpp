#include "io/child_process.hpp"

#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <iostream>
#include <utility>

#include "numerics/error.hpp"

namespace quasar::io {

bool write_all(int fd, const std::string& s) {
  std::size_t done = 0;
  while (done < s.size()) {
    const ssize_t n = ::write(fd, s.data() + done, s.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

namespace {

// Forks a child that runs `work` and writes one status byte ('+' result, '!' error message) and
// the text to a pipe; returns its pid and the pipe's read end.
std::pair<pid_t, int> fork_child(const std::function<std::string()>& work) {
  int fds[2];
  if (::pipe(fds) != 0) throw Error(std::string("pipe failed: ") + std::strerror(errno));
  std::cout.flush();
  std::cerr.flush();
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    throw Error(std::string("fork failed: ") + std::strerror(errno));
  }
  if (pid == 0) {
    ::close(fds[0]);
    std::string msg;
    try {
      msg = "+" + work();
    } catch (const std::exception& e) {
      msg = std::string("!") + e.what();
    } catch (...) {
      msg = "!unexpected failure in the child process";
    }
    const bool ok = write_all(fds[1], msg);
    ::close(fds[1]);
    std::fflush(nullptr);
    ::_exit(ok ? 0 : 1);
  }
  ::close(fds[1]);
  return {pid, fds[0]};
}

// Appends what fd has now to out; false at its end (or an error).
bool read_some(int fd, std::string& out) {
  char buf[65536];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    out.append(buf, static_cast<std::size_t>(n));
    return true;
  }
}

// The child's result from what it wrote and how it ended.
std::string child_result(pid_t pid, const std::string& out) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (out.empty()) {
    throw Error(WIFSIGNALED(status)
                    ? "the child process was killed by signal " + std::to_string(WTERMSIG(status))
                    : "the child process exited with status " +
                          std::to_string(WEXITSTATUS(status)) + " without a result");
  }
  if (out[0] == '!') throw Error(out.substr(1));
  return out.substr(1);
}

}  // namespace

std::string run_in_child(const std::function<std::string()>& work) {
  const auto [pid, fd] = fork_child(work);
  std::string out;
  while (read_some(fd, out)) {
  }
  ::close(fd);
  return child_result(pid, out);
}

std::vector<std::string> run_in_children(const std::vector<std::function<std::string()>>& works,
                                         unsigned parallel, const std::function<void()>& tick) {
  struct Kid {
    pid_t pid = -1;
    int fd = -1;
  };
  std::vector<Kid> kids(works.size());
  std::vector<std::string> out(works.size()), results(works.size()), errors(works.size());
  std::vector<bool> bad(works.size(), false);
  // Reaps child i once its pipe is at its end, keeping its result or its failure.
  const auto reap = [&](std::size_t i) {
    ::close(kids[i].fd);
    kids[i].fd = -1;
    try {
      results[i] = child_result(kids[i].pid, out[i]);
    } catch (const Error& e) {
      bad[i] = true;
      errors[i] = e.what();
    }
  };
  std::size_t next = 0, running = 0;
  const std::size_t most = std::max(1u, parallel);
  std::string fork_error;
  for (;;) {
    while (running < most && next < works.size() && fork_error.empty()) {
      try {
        const auto [pid, fd] = fork_child(works[next]);
        kids[next] = {pid, fd};
        ++running;
        ++next;
      } catch (const Error& e) {
        fork_error = e.what();  // let the started ones finish, then report it
      }
    }
    if (running == 0) break;
    // Read every running child's pipe as it fills (a child blocks on a full pipe until read).
    std::vector<pollfd> fds;
    std::vector<std::size_t> which;
    for (std::size_t i = 0; i < next; ++i) {
      if (kids[i].fd < 0) continue;
      fds.push_back({kids[i].fd, POLLIN, 0});
      which.push_back(i);
    }
    const int n = ::poll(fds.data(), fds.size(), 250);
    if (tick) tick();
    if (n < 0 && errno != EINTR) throw Error(std::string("poll failed: ") + std::strerror(errno));
    if (n <= 0) continue;
    for (std::size_t j = 0; j < fds.size(); ++j) {
      if (fds[j].revents == 0) continue;
      const std::size_t i = which[j];
      if (!read_some(kids[i].fd, out[i])) {
        reap(i);
        --running;
      }
    }
  }
  for (std::size_t i = 0; i < next; ++i)
    if (bad[i]) throw Error(errors[i]);
  if (!fork_error.empty()) throw Error(fork_error);
  return results;
}

}  // namespace quasar::io
