// What a NetworkDefinition holds: the imported graph, before any optimization.
#pragma once
#include <string>

#include "ir/graph.h"
#include "kestrel/kestrel.h"

namespace kestrel {

struct NetworkDefinition::Impl {
  ir::Graph graph;
  std::string source;        // file name or "<memory>", for messages
  uint64_t source_hash = 0;  // FNV-1a 64 of the model bytes
  bool parsed = false;
};

}  // namespace kestrel
