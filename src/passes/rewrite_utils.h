// Small helpers that several rewrites share.
#pragma once
#include "ir/graph.h"

namespace kestrel::passes {

// Makes every reader of value `from` read `to` instead, so that the node producing `from` can go.
// Graph output names are part of the API: when `from` is a graph output, `to` takes over its
// name, which is only possible when `to` is an intermediate value; otherwise nothing changes and
// it returns false.
bool redirect_value(ir::Graph& graph, int from, int to);

// Graph outputs must each be produced by a node, so that each has its own buffer the caller binds:
// an output that folded to a constant, or that is a graph input, gets an explicit copy. Backends
// that rerun folding after the builder call it again.
void give_outputs_producers(ir::Graph& graph);

// Removes the nodes whose index is flagged, keeping the order of the rest.
void remove_nodes(ir::Graph& graph, const std::vector<bool>& remove);

}  // namespace kestrel::passes
