// Work in a forked child process, its result sent back through a pipe: the way to run more than
// one simulation from one process (SystemC 2.3 elaborates once per process), used by the Python
// API (python/) for every call that simulates.
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace quasar::io {

// Writes all of s to fd, retrying on EINTR; returns false when the write fails.
bool write_all(int fd, const std::string& s);

// Runs work() in a forked child and returns the string it returned. A quasar::Error or other
// exception in the child is thrown here as a quasar::Error with the child's message; a child
// that dies (signal, exit without a result) is an Error saying how. Flushes stdout and stderr
// before forking so nothing buffered is written twice.
std::string run_in_child(const std::function<std::string()>& work);

// Runs each of `works` in its own forked child, at most `parallel` (>= 1) at a time, starting
// them in order, and returns their strings in the same order. Every child runs to the end; then
// the first failure in `works` order is thrown as run_in_child throws it (the same error whatever
// the children's timing). `tick`, when set, is called about every 0.25 s while they run
// (progress, which the children may share through memory mapped before the call).
std::vector<std::string> run_in_children(const std::vector<std::function<std::string()>>& works,
                                         unsigned parallel,
                                         const std::function<void()>& tick = {});

}  // namespace quasar::io
