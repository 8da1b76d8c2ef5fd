// Normalisation operators (float32): BatchNormalization (inference only), InstanceNormalization,
// LayerNormalization, GroupNormalization and LRN. Every output but LayerNormalization's
// statistics has X's shape.
//
// BatchNormalization: X is [N, C, ...] and scale, B, input_mean, input_var are [C]. Training mode
// (training_mode=1 from opset 14, or asking for the running/saved statistics outputs, which only
// training computes at any opset) is rejected.
// InstanceNormalization: X is [N, C, D1..Dn], scale and B are [C]; statistics per (n, c) over the
// spatial dims.
// LayerNormalization (opset 17, also accepted earlier for graphs that carry it as a fused op):
// statistics over the dims [axis, rank); Scale and the optional B broadcast to those dims. The
// optional outputs Mean and InvStdDev have X's shape with the normalised dims set to 1. Only
// stash_type=1 (float32 statistics) is supported.
// GroupNormalization (opsets 18 and 21): X is [N, C, ...]; statistics per (n, group of C /
// num_groups channels). Opset 18 gives scale and bias per group ([num_groups]), opset 21 per
// channel ([C]), as torch.nn.GroupNorm; only stash_type=1 is supported.
#include <string>

#include "core/error.h"
#include "ir/op_registry.h"
#include "ir/shape_utils.h"

namespace kestrel::ir {
namespace {

void check_all_float(const InferContext& ctx) {
  for (size_t i = 0; i < ctx.num_inputs(); ++i)
    if (ctx.has_input(i))
      KESTREL_CHECK(ctx.input_dtype(i) == DataType::kFLOAT, "supports float32 only, input {} is {}", i,
                    dtype_name(ctx.input_dtype(i)));
}

void check_per_channel(const InferContext& ctx, size_t input, const char* what, int64_t channels) {
  KESTREL_CHECK(ctx.input_shape(input) == Shape{channels}, "{} must be [{}] (one value per channel), got {}", what,
                channels, shape_str(ctx.input_shape(input)));
}

void infer_batch_norm(InferContext& ctx) {
  check_all_float(ctx);
  const Shape& x = ctx.input_shape(0);
  KESTREL_CHECK(x.size() >= 2, "X must be [N, C, ...], got {}", shape_str(x));
  KESTREL_CHECK(ctx.attrs().get_int("training_mode", 0) == 0,
                "training_mode=1 is not supported (inference only: the running statistics are used)");
  for (size_t i = 1; i < ctx.node().outputs.size(); ++i)
    KESTREL_CHECK(ctx.node().outputs[i] == kNoValue,
                  "only the output Y is supported: output {} (running or saved statistics) exists in training mode only",
                  i);
  const char* names[] = {"scale", "B", "input_mean", "input_var"};
  for (size_t i = 1; i <= 4; ++i) check_per_channel(ctx, i, names[i - 1], x[1]);
  ctx.set_output(0, DataType::kFLOAT, x);
}

void infer_instance_norm(InferContext& ctx) {
  check_all_float(ctx);
  const Shape& x = ctx.input_shape(0);
  KESTREL_CHECK(x.size() >= 3, "X must be [N, C, D1, ...] with at least one spatial dim, got {}", shape_str(x));
  check_per_channel(ctx, 1, "scale", x[1]);
  check_per_channel(ctx, 2, "B", x[1]);
  ctx.set_output(0, DataType::kFLOAT, x);
}

void infer_layer_norm(InferContext& ctx) {
  check_all_float(ctx);
  const Shape& x = ctx.input_shape(0);
  KESTREL_CHECK(!x.empty(), "X must have rank >= 1");
  const int axis = normalize_axis(ctx.attrs().get_int("axis", -1), int(x.size()));
  const int64_t stash_type = ctx.attrs().get_int("stash_type", 1);
  KESTREL_CHECK(stash_type == 1, "stash_type {} is not supported (only 1, float32 statistics)", stash_type);
  const Shape normalized(x.begin() + axis, x.end());
  for (size_t i = 1; i <= 2; ++i) {
    if (!ctx.has_input(i)) continue;
    const Shape& s = ctx.input_shape(i);
    KESTREL_CHECK(broadcast_shapes(s, normalized) == normalized, "{} {} does not broadcast to the normalised dims {}",
                  i == 1 ? "Scale" : "B", shape_str(s), shape_str(normalized));
  }
  ctx.set_output(0, DataType::kFLOAT, x);
  Shape stats = x;
  for (size_t i = size_t(axis); i < stats.size(); ++i) stats[i] = 1;
  if (ctx.num_outputs() > 1) ctx.set_output(1, DataType::kFLOAT, stats);
  if (ctx.num_outputs() > 2) ctx.set_output(2, DataType::kFLOAT, stats);
}

void infer_group_norm(InferContext& ctx) {
  KESTREL_CHECK(ctx.opset() >= 18, "GroupNormalization exists only from opset 18 (opset {})", ctx.opset());
  check_all_float(ctx);
  const Shape& x = ctx.input_shape(0);
  KESTREL_CHECK(x.size() >= 2, "X must be [N, C, ...], got {}", shape_str(x));
  KESTREL_CHECK(ctx.attrs().has("num_groups"), "the num_groups attribute is required");
  const int64_t groups = ctx.attrs().get_int("num_groups");
  KESTREL_CHECK(groups >= 1 && x[1] % groups == 0, "num_groups {} must divide the {} channels", groups, x[1]);
  const int64_t stash_type = ctx.attrs().get_int("stash_type", 1);
  KESTREL_CHECK(stash_type == 1, "stash_type {} is not supported (only 1, float32 statistics)", stash_type);
  // Opset 21 changed the meaning of scale and bias from per group to per channel.
  const bool per_channel = ctx.opset() >= 21;
  const int64_t params = per_channel ? x[1] : groups;
  for (size_t i = 1; i <= 2; ++i)
    KESTREL_CHECK(ctx.input_shape(i) == Shape{params}, "{} must be [{}] (one value per {} at opset {}), got {}",
                  i == 1 ? "scale" : "bias", params, per_channel ? "channel" : "group", ctx.opset(),
                  shape_str(ctx.input_shape(i)));
  ctx.set_output(0, DataType::kFLOAT, x);
}

void infer_lrn(InferContext& ctx) {
  check_all_float(ctx);
  const Shape& x = ctx.input_shape(0);
  KESTREL_CHECK(x.size() >= 2, "X must be [N, C, ...], got {}", shape_str(x));
  KESTREL_CHECK(ctx.attrs().has("size"), "the size attribute is required");
  KESTREL_CHECK(ctx.attrs().get_int("size") >= 1, "size must be >= 1, got {}", ctx.attrs().get_int("size"));
  ctx.set_output(0, DataType::kFLOAT, x);
}

}  // namespace

KESTREL_REGISTER_OP(OpSchema{"BatchNormalization", 5, 5, 1, 5, infer_batch_norm});
KESTREL_REGISTER_OP(OpSchema{"InstanceNormalization", 3, 3, 1, 1, infer_instance_norm});
KESTREL_REGISTER_OP(OpSchema{"LayerNormalization", 2, 3, 1, 3, infer_layer_norm});
KESTREL_REGISTER_OP(OpSchema{"GroupNormalization", 3, 3, 1, 1, infer_group_norm});
KESTREL_REGISTER_OP(OpSchema{"LRN", 1, 1, 1, 1, infer_lrn});

}  // namespace kestrel::ir
