// Graph passes. Each pass lives in its own file and registers itself with an order; the
// optimizer runs them in that order, repeating the rewrites until none changes the graph.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "ir/graph.h"

namespace kestrel::passes {

// Returns true when it changed the graph.
using PassFunction = std::function<bool(ir::Graph&)>;

struct Pass {
  std::string name;
  int order = 0;  // lower runs first
  PassFunction run;
};

struct PassRegistrar {
  explicit PassRegistrar(Pass pass);
};

std::vector<const Pass*> registered_passes();  // sorted by order

// Infers every shape, folds constants, then applies every registered rewrite until the graph
// stops changing. All input shapes must be static before this runs.
void optimize(ir::Graph& graph);

}  // namespace kestrel::passes

#ifndef KESTREL_CONCAT
#define KESTREL_CONCAT_INNER(a, b) a##b
#define KESTREL_CONCAT(a, b) KESTREL_CONCAT_INNER(a, b)
#endif
#define KESTREL_REGISTER_PASS(...) \
  static ::kestrel::passes::PassRegistrar KESTREL_CONCAT(kestrel_pass_registrar_, __LINE__)(__VA_ARGS__)
