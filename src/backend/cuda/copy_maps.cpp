// Element maps of the data-movement layers and their composition (copy_maps.h).
#include "backend/cuda/copy_maps.h"

#include <algorithm>
#include <numeric>

#include "backend/cuda/cuda_ops.h"
#include "ir/op_registry.h"
#include "ir/shape_utils.h"

namespace kestrel::cuda {
namespace {

// Reads a tensor viewed as `view`, permuted by `perm`, into a contiguous output.
CopyMap permuted(const Shape& view, const std::vector<int64_t>& perm) {
  const std::vector<int64_t> strides = ir::strides_of(view);
  CopyMap m;
  for (int64_t p : perm) {
    m.dims.push_back(view[size_t(p)]);
    m.in_strides.push_back(strides[size_t(p)]);
  }
  return m;
}

int64_t slice_start(int64_t dim, int64_t start, int64_t step) {
  if (start < 0) start += dim;
  return step > 0 ? std::clamp<int64_t>(start, 0, dim) : std::clamp<int64_t>(start, 0, std::max<int64_t>(dim - 1, 0));
}

CopyMap slice_map(const ir::Graph& g, const ir::Node& node) {
  const ir::Value& x = g.values[size_t(node.inputs[0])];
  const ir::Value& y = g.values[size_t(node.outputs[0])];
  std::vector<int64_t> starts, axes, steps;
  if (node.opset < 10) {
    starts = node.attrs.get_ints("starts");
    axes = node.attrs.get_ints("axes", {});
  } else {
    starts = constant_ints(g, node, 1);
    if (node.inputs.size() > 3 && node.inputs[3] != ir::kNoValue) axes = constant_ints(g, node, 3);
    if (node.inputs.size() > 4 && node.inputs[4] != ir::kNoValue) steps = constant_ints(g, node, 4);
  }
  if (axes.empty()) {
    axes.resize(starts.size());
    std::iota(axes.begin(), axes.end(), 0);
  }
  if (steps.empty()) steps.assign(starts.size(), 1);
  const std::vector<int64_t> in_strides = ir::strides_of(x.shape);
  CopyMap m;
  m.dims = y.shape;
  m.in_strides = in_strides;
  const int rank = int(x.shape.size());
  for (size_t i = 0; i < starts.size(); ++i) {
    const int axis = ir::normalize_axis(axes[i], rank);
    if (y.shape[size_t(axis)] == 0) continue;
    m.base += slice_start(x.shape[size_t(axis)], starts[i], steps[i]) * in_strides[size_t(axis)];
    m.in_strides[size_t(axis)] = y.shape[size_t(axis)] == 1 ? 0 : steps[i] * in_strides[size_t(axis)];
  }
  return m;
}

// Flat input index of output coordinate c.
int64_t source_of(const CopyMap& m, const std::vector<int64_t>& c) {
  int64_t f = m.base;
  for (size_t d = 0; d < c.size(); ++d) f += c[d] * m.in_strides[d];
  return f;
}

// Flat input index of flat output index f.
int64_t source_of_flat(const CopyMap& m, int64_t f) {
  int64_t index = m.base;
  for (size_t d = m.dims.size(); d-- > 0;) {
    const int64_t extent = std::max<int64_t>(m.dims[d], 1);
    index += (f % extent) * m.in_strides[d];
    f /= extent;
  }
  return index;
}

}  // namespace

bool is_reshape_like(const ir::Node& node) {
  if (!node.domain.empty()) return false;
  const std::string& op = node.op_type;
  return op == "Reshape" || op == "Flatten" || op == "Squeeze" || op == "Unsqueeze" || op == "Identity";
}

std::optional<CopyMap> copy_map(const ir::Graph& g, const ir::Node& node) {
  if (node.inputs.empty() || node.outputs.size() != 1 || node.inputs[0] == ir::kNoValue) return std::nullopt;
  const ir::Value& x = g.values[size_t(node.inputs[0])];
  const ir::Value& y = g.values[size_t(node.outputs[0])];
  const std::string op = ir::qualified_op_type(node);
  if (is_reshape_like(node)) {
    if (shape_numel(x.shape) != shape_numel(y.shape)) return std::nullopt;
    return CopyMap{Shape{shape_numel(y.shape)}, {1}, 0};
  }
  if (op == "Transpose") {
    std::vector<int64_t> perm(x.shape.size());
    std::iota(perm.rbegin(), perm.rend(), 0);
    return permuted(x.shape, node.attrs.get_ints("perm", perm));
  }
  if (op == "Slice") {
    if (node.opset >= 10)
      for (size_t i = 1; i < node.inputs.size(); ++i)
        if (node.inputs[i] != ir::kNoValue && !input_is_constant(g, node, i)) return std::nullopt;
    return slice_map(g, node);
  }
  if (op == "Expand") return CopyMap{y.shape, ir::broadcast_strides(x.shape, y.shape), 0};
  if (op == "DepthToSpace" || op == "SpaceToDepth") {
    if (x.shape.size() != 4) return std::nullopt;
    const int64_t b = node.attrs.get_int("blocksize");
    const int64_t n = x.shape[0], c = x.shape[1], h = x.shape[2], w = x.shape[3];
    if (op == "SpaceToDepth") return permuted({n, c, h / b, b, w / b, b}, {0, 3, 5, 1, 2, 4});
    return node.attrs.get_string("mode", "DCR") == "DCR" ? permuted({n, b, b, c / (b * b), h, w}, {0, 3, 4, 1, 5, 2})
                                                         : permuted({n, c / (b * b), b, b, h, w}, {0, 1, 4, 2, 5, 3});
  }
  if (op == "kestrel.StridedCopy") {
    CopyMap m;
    m.dims = node.attrs.get_ints(kAttrCopyDims);
    m.in_strides = node.attrs.get_ints(kAttrCopyStrides);
    m.base = node.attrs.get_int(kAttrCopyBase, 0);
    if (m.dims.size() != m.in_strides.size()) return std::nullopt;
    return m;
  }
  return std::nullopt;
}

std::optional<CopyMap> compose(const CopyMap& outer, const CopyMap& inner) {
  constexpr int64_t kMaxChecked = int64_t(1) << 22;
  const int64_t total = shape_numel(outer.dims);
  if (total > kMaxChecked || outer.dims.size() > size_t(kMaxRank)) return std::nullopt;
  CopyMap m;
  m.dims = outer.dims;
  m.base = source_of_flat(inner, outer.base);
  for (size_t d = 0; d < outer.dims.size(); ++d)
    m.in_strides.push_back(outer.dims[d] > 1 ? source_of_flat(inner, outer.base + outer.in_strides[d]) - m.base : 0);
  // Linear in each coordinate on its own is not enough (a slice can break the carries between
  // the axes of a reshape): check every element.
  std::vector<int64_t> c(outer.dims.size(), 0);
  for (int64_t i = 0; i < total; ++i) {
    if (source_of(m, c) != source_of_flat(inner, source_of(outer, c))) return std::nullopt;
    for (size_t d = c.size(); d-- > 0;) {
      if (++c[d] < outer.dims[d]) break;
      c[d] = 0;
    }
  }
  return m;
}

}  // namespace kestrel::cuda
