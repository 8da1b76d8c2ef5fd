// Data type checks that operator schemas share.
#pragma once
#include <algorithm>
#include <iterator>
#include <string>

#include "core/error.h"
#include "ir/op_registry.h"

namespace kestrel::ir {

template <size_t N>
std::string dtype_list(const DataType (&allowed)[N]) {
  std::string names;
  for (DataType t : allowed) names += (names.empty() ? "" : ", ") + std::string(dtype_name(t));
  return names;
}

// Input `input` must have one of the `allowed` data types.
template <size_t N>
void require_dtype(const InferContext& ctx, size_t input, const DataType (&allowed)[N]) {
  const DataType t = ctx.input_dtype(input);
  KESTREL_CHECK(std::find(std::begin(allowed), std::end(allowed), t) != std::end(allowed),
                "input {} has data type {}; {} supports {}", input, dtype_name(t), ctx.node().op_type,
                dtype_list(allowed));
}

}  // namespace kestrel::ir
