#include "passes/pass.h"

#include <algorithm>

#include "core/error.h"

namespace kestrel::passes {
namespace {

std::vector<Pass>& passes() {
  static std::vector<Pass> table;
  return table;
}

}  // namespace

PassRegistrar::PassRegistrar(Pass pass) { passes().push_back(std::move(pass)); }

std::vector<const Pass*> registered_passes() {
  std::vector<const Pass*> out;
  for (const Pass& p : passes()) out.push_back(&p);
  std::stable_sort(out.begin(), out.end(), [](const Pass* a, const Pass* b) { return a->order < b->order; });
  return out;
}

namespace {

// Runs the passes whose device mask covers all of `devices`.
void run_passes(ir::Graph& graph, uint32_t devices) {
  // A rewrite may enable another; ten rounds is far more than any real graph needs and bounds
  // the work on adversarial ones.
  constexpr int kMaxRounds = 10;
  for (int round = 0; round < kMaxRounds; ++round) {
    bool changed = false;
    for (const Pass* pass : registered_passes())
      if ((pass->devices & devices) == devices) changed |= pass->run(graph);
    if (!changed) return;
  }
}

}  // namespace

void optimize(ir::Graph& graph) { run_passes(graph, kAllDevices); }

void optimize(ir::Graph& graph, DeviceType device) { run_passes(graph, device_bit(device)); }

}  // namespace kestrel::passes
