#include "ir/shape_utils.h"

#include "core/error.h"

namespace kestrel::ir {

Shape broadcast_shapes(const Shape& a, const Shape& b) {
  const size_t rank = std::max(a.size(), b.size());
  Shape out(rank);
  for (size_t i = 0; i < rank; ++i) {
    const int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    const int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    KESTREL_CHECK(da == db || da == 1 || db == 1, "shapes {} and {} do not broadcast", shape_str(a), shape_str(b));
    out[i] = da == 1 ? db : da;
  }
  return out;
}

int normalize_axis(int64_t axis, int rank) {
  KESTREL_CHECK(axis >= -rank && axis < std::max(rank, 1), "axis {} is out of range for rank {}", axis, rank);
  return int(axis < 0 ? axis + rank : axis);
}

std::vector<int64_t> strides_of(const Shape& shape) {
  std::vector<int64_t> strides(shape.size(), 1);
  for (size_t i = shape.size(); i-- > 1;) strides[i - 1] = strides[i] * shape[i];
  return strides;
}

std::vector<int64_t> broadcast_strides(const Shape& shape, const Shape& target) {
  KESTREL_CHECK(shape.size() <= target.size(), "cannot broadcast {} to {}", shape_str(shape), shape_str(target));
  const std::vector<int64_t> own = strides_of(shape);
  std::vector<int64_t> out(target.size(), 0);
  const size_t offset = target.size() - shape.size();
  for (size_t i = 0; i < shape.size(); ++i) {
    KESTREL_CHECK(shape[i] == target[i + offset] || shape[i] == 1, "cannot broadcast {} to {}", shape_str(shape),
                  shape_str(target));
    out[i + offset] = shape[i] == 1 ? 0 : own[i];
  }
  return out;
}

std::vector<int64_t> to_int_vector(const Tensor& t) {
  KESTREL_CHECK(t.rank() <= 1, "expected a 1-D tensor, got shape {}", shape_str(t.shape()));
  std::vector<int64_t> out(size_t(t.numel()));
  for (int64_t i = 0; i < t.numel(); ++i) out[size_t(i)] = t.int_at(i);
  return out;
}

}  // namespace kestrel::ir
