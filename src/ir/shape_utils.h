// Shape arithmetic shared by shape inference and kernels.
#pragma once
#include <vector>

#include "core/tensor.h"

namespace kestrel::ir {

// Numpy-style multidirectional broadcast of two shapes; throws when incompatible.
Shape broadcast_shapes(const Shape& a, const Shape& b);
// Maps a possibly negative axis into [0, rank); throws when out of range.
int normalize_axis(int64_t axis, int rank);
// Row-major strides, in elements.
std::vector<int64_t> strides_of(const Shape& shape);
// Strides to read a tensor of `shape` as if it had `target` shape (broadcast dims get stride 0).
std::vector<int64_t> broadcast_strides(const Shape& shape, const Shape& target);
// Reads a 1-D integer constant into a vector (axes, shape, pads, ...).
std::vector<int64_t> to_int_vector(const Tensor& t);

}  // namespace kestrel::ir
