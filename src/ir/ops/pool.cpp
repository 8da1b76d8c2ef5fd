// Pooling over the spatial dims of an [N, C, D1..Dn] input: MaxPool, AveragePool, LpPool and their
// Global* forms (one window covering all spatial dims, output [N, C, 1..1]).
//
// Output size per spatial dim (in, dilated kernel k_eff = (k-1)*d+1, stride s):
//   NOTSET:  (in + pad_begin + pad_end - k_eff) / s + 1, the division rounding down, or up with
//            ceil_mode=1; with ceil_mode a last window that would start in the end padding is
//            dropped (PyTorch's rule, adopted by later versions of the ONNX spec)
//   SAME_*:  ceil(in / s); total padding max(0, (out-1)*s + k_eff - in), the odd element at the
//            end for SAME_UPPER and at the beginning for SAME_LOWER
//   VALID:   (in - k_eff) / s + 1 rounding down whatever ceil_mode says, no padding
// `pads` is ignored when auto_pad is not NOTSET.
//
// Dtypes: MaxPool and GlobalMaxPool take float32 and the integer types (int8, uint8, int32,
// int64); the averaging pools take float32 only. MaxPool's optional second output (Indices,
// int64) holds the flat index of each maximum in X, with the spatial part row-major
// (storage_order=0) or column-major (storage_order=1).
#include <string>
#include <vector>

#include "core/error.h"
#include "ir/op_registry.h"
#include "ir/shape_utils.h"

namespace kestrel::ir {
namespace {

enum class PoolKind { kMax, kAverage, kLp };

std::vector<int64_t> spatial_ints(const Attributes& attrs, const char* name, size_t count, int64_t fill) {
  std::vector<int64_t> values = attrs.get_ints(name, {});
  if (values.empty()) return std::vector<int64_t>(count, fill);
  KESTREL_CHECK(values.size() == count, "attribute '{}' has {} values, expected {} (one per spatial dimension)",
                name, values.size(), count);
  return values;
}

void check_pool_dtype(const InferContext& ctx, PoolKind kind) {
  const DataType dtype = ctx.input_dtype(0);
  const bool integer_ok = kind == PoolKind::kMax && dtype_is_integer(dtype);
  KESTREL_CHECK(dtype == DataType::kFLOAT || integer_ok, "does not support {} inputs", dtype_name(dtype));
}

int64_t pooled_size(int64_t in, int64_t k_eff, int64_t stride, int64_t pad_begin, int64_t pad_end, bool ceil_mode,
                    size_t dim) {
  const int64_t span = in + pad_begin + pad_end - k_eff;
  KESTREL_CHECK(span >= 0, "spatial dim {} ({} with padding) is smaller than the dilated kernel ({})", dim,
                in + pad_begin + pad_end, k_eff);
  int64_t out = (ceil_mode ? (span + stride - 1) / stride : span / stride) + 1;
  if (ceil_mode && (out - 1) * stride >= in + pad_begin) --out;
  return out;
}

template <PoolKind kind>
void infer_pool(InferContext& ctx) {
  check_pool_dtype(ctx, kind);
  const Attributes& attrs = ctx.attrs();
  const Shape& x = ctx.input_shape(0);
  KESTREL_CHECK(x.size() >= 3, "X must be [N, C, spatial...] with at least one spatial dim, got {}", shape_str(x));
  const size_t spatial = x.size() - 2;

  KESTREL_CHECK(attrs.has("kernel_shape"), "the kernel_shape attribute is required");
  const std::vector<int64_t> kernel = attrs.get_ints("kernel_shape");
  KESTREL_CHECK(kernel.size() == spatial, "kernel_shape {} must have one value per spatial dim of X {}",
                shape_str(kernel), shape_str(x));
  const std::vector<int64_t> strides = spatial_ints(attrs, "strides", spatial, 1);
  const std::vector<int64_t> dilations = spatial_ints(attrs, "dilations", spatial, 1);
  std::vector<int64_t> pads = spatial_ints(attrs, "pads", 2 * spatial, 0);
  const std::string auto_pad = attrs.get_string("auto_pad", "NOTSET");
  const bool ceil_mode = attrs.get_int("ceil_mode", 0) != 0;
  KESTREL_CHECK(auto_pad == "NOTSET" || auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER" || auto_pad == "VALID",
                "unknown auto_pad '{}'", auto_pad);
  if (auto_pad != "NOTSET") pads.assign(2 * spatial, 0);
  for (size_t i = 0; i < spatial; ++i) {
    KESTREL_CHECK(kernel[i] >= 1, "kernel_shape values must be >= 1, got {}", shape_str(kernel));
    KESTREL_CHECK(strides[i] >= 1, "strides must be >= 1, got {}", shape_str(strides));
    KESTREL_CHECK(dilations[i] >= 1, "dilations must be >= 1, got {}", shape_str(dilations));
  }
  for (int64_t p : pads) KESTREL_CHECK(p >= 0, "pads must be >= 0, got {}", shape_str(pads));
  if constexpr (kind == PoolKind::kMax) {
    const int64_t storage_order = attrs.get_int("storage_order", 0);
    KESTREL_CHECK(storage_order == 0 || storage_order == 1, "storage_order must be 0 or 1, got {}", storage_order);
  }
  if constexpr (kind == PoolKind::kLp) KESTREL_CHECK(attrs.get_int("p", 2) >= 1, "p must be >= 1");

  Shape out{x[0], x[1]};
  for (size_t i = 0; i < spatial; ++i) {
    const int64_t in = x[i + 2], s = strides[i];
    const int64_t k_eff = (kernel[i] - 1) * dilations[i] + 1;
    if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER")
      out.push_back((in + s - 1) / s);
    else
      out.push_back(pooled_size(in, k_eff, s, pads[i], pads[i + spatial], ceil_mode && auto_pad == "NOTSET", i));
  }
  ctx.set_output(0, ctx.input_dtype(0), out);
  if (ctx.num_outputs() > 1) ctx.set_output(1, DataType::kINT64, out);
}

template <PoolKind kind>
void infer_global_pool(InferContext& ctx) {
  check_pool_dtype(ctx, kind);
  const Shape& x = ctx.input_shape(0);
  KESTREL_CHECK(x.size() >= 2, "X must be [N, C, spatial...], got {}", shape_str(x));
  if constexpr (kind == PoolKind::kLp) KESTREL_CHECK(ctx.attrs().get_int("p", 2) >= 1, "p must be >= 1");
  Shape out(x.size(), 1);
  out[0] = x[0];
  out[1] = x[1];
  ctx.set_output(0, ctx.input_dtype(0), out);
}

}  // namespace

KESTREL_REGISTER_OP(OpSchema{"MaxPool", 1, 1, 1, 2, infer_pool<PoolKind::kMax>});
KESTREL_REGISTER_OP(OpSchema{"AveragePool", 1, 1, 1, 1, infer_pool<PoolKind::kAverage>});
KESTREL_REGISTER_OP(OpSchema{"LpPool", 1, 1, 1, 1, infer_pool<PoolKind::kLp>});
KESTREL_REGISTER_OP(OpSchema{"GlobalMaxPool", 1, 1, 1, 1, infer_global_pool<PoolKind::kMax>});
KESTREL_REGISTER_OP(OpSchema{"GlobalAveragePool", 1, 1, 1, 1, infer_global_pool<PoolKind::kAverage>});
KESTREL_REGISTER_OP(OpSchema{"GlobalLpPool", 1, 1, 1, 1, infer_global_pool<PoolKind::kLp>});

}  // namespace kestrel::ir
