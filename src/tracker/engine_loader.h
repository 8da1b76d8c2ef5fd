// Loads an engine file, or builds an ONNX model in memory, through the public API only, as a
// user's program would. Done once per run: the tracker never reloads an engine per sequence.
#pragma once
#include <cstdint>
#include <memory>
#include <string>

#include "kestrel/kestrel.h"

namespace kestrel::tracker {

struct EngineLoadOptions {
  BuilderConfig config;  // how an ONNX file is built (device, precision); engine files keep theirs
  // For an ONNX model whose first input dimension is dynamic: the batch to build it for (the
  // config's batch profile is set to it). An engine file, or a model with a fixed batch, keeps
  // its own.
  int64_t batch = 1;
};

// Throws kestrel::Error naming the file on failure.
std::unique_ptr<Engine> load_engine(const std::string& path, const EngineLoadOptions& options, ILogger& logger);

}  // namespace kestrel::tracker
