// Binary encoding of the IR graph inside an engine file.
#pragma once
#include "engine/byte_io.h"
#include "ir/graph.h"

namespace kestrel::engine {

void write_graph(ByteWriter& out, const ir::Graph& graph);
// Validates every index and size while reading; throws on anything inconsistent.
ir::Graph read_graph(ByteReader& in);

}  // namespace kestrel::engine
