// Everything an engine file holds, in memory: header facts, the optimized graph with its
// weights, and the activation memory plan.
#pragma once
#include <map>
#include <string>

#include "engine/memory_plan.h"
#include "ir/graph.h"
#include "kestrel/kestrel.h"

namespace kestrel::engine {

constexpr char kEngineMagic[8] = {'K', 'S', 'T', 'R', 'L', 'E', 'N', 'G'};
constexpr uint32_t kEngineFormatVersion = 1;

struct EngineData {
  std::string producer;  // Kestrel version that built the engine
  DeviceType device = DeviceType::kCPU;
  uint32_t builder_flags = 0;
  uint64_t source_hash = 0;
  BatchProfile profile;
  // Facts about the build target that a runtime must match (GPU architecture, library
  // versions), recorded by the backend; shown by inspect.
  std::map<std::string, std::string> target;
  ir::Graph graph;  // topologically sorted, static shapes, constants hold the weights
  MemoryPlan plan;
};

// Engine file layout (docs/engine_format.md): magic, format version, body, CRC-32 of all
// bytes before it.
std::vector<uint8_t> serialize_engine(const EngineData& engine);
// Refuses wrong magic, other format versions and corruption with a message saying which.
EngineData deserialize_engine(const uint8_t* data, size_t size);

uint64_t fnv1a64(const void* data, size_t size);

}  // namespace kestrel::engine
