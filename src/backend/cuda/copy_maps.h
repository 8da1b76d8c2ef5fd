// The element maps of the data-movement layers, so that chains of them can be composed into one
// strided copy (lower_copy_chains.cpp) and planned alike (ops_movement.cpp).
#pragma once
#include <optional>
#include <vector>

#include "ir/graph.h"

namespace kestrel::cuda {

// out[ravel(c, dims)] = in[base + sum over d of c[d] * in_strides[d]] for every coordinate c of
// `dims`: the output in row-major order, possibly viewed with more dimensions than it has.
struct CopyMap {
  Shape dims;
  std::vector<int64_t> in_strides;
  int64_t base = 0;
};

// Attributes of kestrel.StridedCopy, the composed layer (CUDA lowering only).
constexpr const char* kAttrCopyDims = "kestrel_copy_dims";
constexpr const char* kAttrCopyStrides = "kestrel_copy_strides";
constexpr const char* kAttrCopyBase = "kestrel_copy_base";

// Reshape, Flatten, Squeeze, Unsqueeze, Identity: the same elements in the same order.
bool is_reshape_like(const ir::Node& node);
// The map of Transpose, Slice, Expand, DepthToSpace, SpaceToDepth, StridedCopy and the
// reshape-like layers; nullopt for anything else.
std::optional<CopyMap> copy_map(const ir::Graph& graph, const ir::Node& node);
// `outer` applied to the output of `inner` as one map, checked element by element (nullopt when
// the composition is not one strided map, or is too large to check).
std::optional<CopyMap> compose(const CopyMap& outer, const CopyMap& inner);

}  // namespace kestrel::cuda
