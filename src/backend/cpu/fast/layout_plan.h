// Chooses the storage layout of every value from the kernels recorded in Node.kernel.
//
// A value may be stored channel-blocked (nChw16c) when it is a 4-D float or int8 intermediate whose
// channel count is a multiple of 16, every port that touches it (its producer's output, each
// reader's input) is blockable and the values tied to it may be too. Such values form regions
// (tied values, and a kernel's source and destination on a blocked path, are in one region); a
// region is blocked only when some kernel inside it runs entirely on blocked data (a blocked
// path with both ends in the region). Everything else is plain. The result depends only on the
// graph and the recorded kernels, so the build and every execution context compute the same
// plan. int8 values (4-D, any channel count) are stored channels-last instead of blocked, whenever
// every port that touches them allows it, without the region condition.
#pragma once
#include <vector>

#include "backend/cpu/fast/kernel.h"

namespace kestrel::cpu::fast {

// The implementation recorded for a node, or nullptr (reference kernel, unknown name).
const KernelImpl* recorded_impl(const ir::Node& node);

std::vector<Layout> plan_layouts(const ir::Graph& graph);

}  // namespace kestrel::cpu::fast
