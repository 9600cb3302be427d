// A run cut where the accelerator is idle, simulated a segment at a time (issue 16: a request's
// decode steps share most of their work, and a segment seen before is not simulated again).
//
// Why a cut is exact. A layer's first fetch (or vector block) waits until every layer it reads
// has closed: its last tile finished and every write complete (LayerBarrier). At a cut before
// layer j every earlier layer is read, directly or through others, by every layer from j on, so
// nothing of those starts before the earlier ones have all closed, at cycle T; and at T nothing
// of the earlier ones is left: no tile, no transfer, no pending write, every buffer slot free.
// What the machine carries past T is then only the DRAM's DramCarry (each channel's last bus
// direction, the next channel, the controller's round-robin requester): the channels' free
// times and the interconnect's links are at or before T, which a later request cannot see. So
// the layers from j on, simulated from cycle 0 with the DRAM resumed from that carry, run
// exactly as they do from T, shifted by T; the run's statistics are the segments' in order
// (append_segment). Two things in the model see absolute time and would break the shift, so a
// design with either is not cut (why_not_segmented): DRAM refresh (its windows are at fixed
// times) and a clock whose cycle is not a whole number of picoseconds (the DRAM's rounding of
// cycles to picoseconds then depends on the cycle). Tests: Segments.* compare cut runs with
// whole ones, statistic by statistic, on designs and traces of every kind.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "arch/arch_spec.hpp"
#include "arch/workload.hpp"

namespace quasar::arch {

// "" when runs of `a` can be cut exactly; else why not (refresh, the clock).
std::string why_not_segmented(const ArchSpec& a);

// The cuts of a run (one list of layers per core, the same layers in each): indices j,
// 0 < j < layers, where every layer before j is an ancestor (through `after`) of every layer
// from j on. None when the run order is not the lists' order (LayerWork::wave).
std::vector<std::size_t> segment_cuts(const std::vector<std::vector<LayerWork>>& core_work);

// Layers [from, to) of every core's list as a run of their own: `after` entries before `from`
// dropped (those layers are closed when the segment starts), the rest renumbered.
std::vector<std::vector<LayerWork>> segment_work(
    const std::vector<std::vector<LayerWork>>& core_work, std::size_t from, std::size_t to);

// The run so far followed by a segment that started at its end (run.cycles): the segment's
// layers appended, its cycles added, each core's counters added and its end moved to
// run.cycles + its end in the segment when it did anything there. `run` empty: the segment.
void append_segment(RunStats& run, const RunStats& seg);

// Every field of a segment's work in one byte string: two segments are the same work exactly
// when their strings are equal (the memo of simulated segments compares them).
std::string work_bytes(const std::vector<std::vector<LayerWork>>& core_work);

}  // namespace quasar::arch
