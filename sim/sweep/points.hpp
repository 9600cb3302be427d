// The points of a sweep: designs x workloads x axes (cartesian over axes, zip axes move
// together), optionally a seeded random sample of them, each with a stable identity: a hash of
// its fully resolved design YAML, workload, mode and the quasar version, so a changed point is
// recomputed and an unchanged one is found again in the store.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "sweep/sweep_spec.hpp"

namespace quasar::sweep {

struct Point {
  std::uint64_t index = 0;  // position in the sweep's enumeration (stable)
  std::string design;       // as named in the spec
  Workload workload;        // with workload.* settings applied
  std::string workload_label;  // the spec's workload before settings (points compete within one)
  std::vector<std::pair<std::string, std::string>> settings;  // the axes' key = value
  std::string id;                                             // 16 hex digits
  std::string canonical;  // what the id hashes (stored, to detect a hash collision)
};

// Every point of the spec in enumeration order (designs outer, then workloads, then the axes
// in file order), or the sample when the spec asks for one. `version` enters the identity.
std::vector<Point> enumerate_points(const SweepSpec& s, const std::string& version);

// The points shard `i` of `n` runs: index % n == i.
std::vector<Point> shard_points(const std::vector<Point>& all, std::uint64_t i, std::uint64_t n);

std::string fnv1a_hex(const std::string& text);

}  // namespace quasar::sweep
