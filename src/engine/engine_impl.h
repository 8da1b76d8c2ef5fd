// What an Engine holds once deserialized: the engine data, shared with its execution contexts.
#pragma once
#include <memory>

#include "engine/engine_data.h"
#include "kestrel/kestrel.h"

namespace kestrel {

struct Engine::Impl {
  std::shared_ptr<const engine::EngineData> data;
};

}  // namespace kestrel
