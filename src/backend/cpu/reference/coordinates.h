// Row-major iteration over every coordinate of a shape, shared by the data-movement kernels.
#pragma once
#include <vector>

#include "core/tensor.h"

namespace kestrel::cpu {

// Calls f(linear_index, coordinate) for every coordinate of `shape`, in row-major order.
template <typename F>
void for_each_coordinate(const Shape& shape, F&& f) {
  const int64_t count = shape_numel(shape);
  std::vector<int64_t> coord(shape.size(), 0);
  for (int64_t i = 0; i < count; ++i) {
    f(i, coord);
    for (size_t d = shape.size(); d-- > 0;) {
      if (++coord[d] < shape[d]) break;
      coord[d] = 0;
    }
  }
}

}  // namespace kestrel::cpu
