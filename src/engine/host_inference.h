// One inference on host arrays: checks each array against the engine's input (name, dtype, shape,
// size), binds it, allocates the outputs, runs and waits. Shared by Runner and the quantizer's
// calibration and accuracy runs.
#pragma once
#include "kestrel/kestrel.h"

namespace kestrel::engine {

// Throws an Error naming the input at fault or the failure of the run.
NamedTensors infer_on_host(const Engine& engine, ExecutionContext& context, const NamedTensors& feed);

}  // namespace kestrel::engine
