// Planner of Resize (resize.cu) for opset 11 and later: 4-D NCHW values whose last two axes are
// resized, with constant roi, scales or sizes (as exported models have them once folded). The
// settings are read with the reference's defaults. Other cases (batch or channel resizing,
// antialias, the axes attribute, opset 10) are refused naming the layer.
#include "backend/cuda/cuda_ops.h"
#include "ir/shape_utils.h"

namespace kestrel::cuda {
namespace {

const Tensor* constant_input(const ir::Graph& g, const ir::Node& node, size_t i) {
  if (!has_input(node, i)) return nullptr;
  const ir::Value& v = g.values[size_t(node.inputs[i])];
  KESTREL_CHECK(v.constant.has_value(), "{}: input {} must be a constant on CUDA", ir::describe(node), i);
  return v.constant->numel() > 0 ? &*v.constant : nullptr;
}

template <typename E>
E pick(const ir::Node& node, const char* attr, const char* fallback, std::initializer_list<std::pair<const char*, E>> names) {
  const std::string value = node.attrs.get_string(attr, fallback);
  for (const auto& [name, e] : names)
    if (value == name) return e;
  fail("{}: {} '{}' is not supported on CUDA", ir::describe(node), attr, value);
}

Resize2d resize_params(const ir::Graph& g, const ir::Node& node) {
  const ir::Value& x = g.values[size_t(node.inputs.at(0))];
  const ir::Value& y = g.values[size_t(node.outputs.at(0))];
  KESTREL_CHECK(node.opset >= 11, "{}: Resize of opset {} is not supported on CUDA (11 and later are)",
                ir::describe(node), node.opset);
  KESTREL_CHECK(x.dtype == DataType::kFLOAT || x.dtype == DataType::kHALF, "{}: float input expected on CUDA, got {}",
                ir::describe(node), dtype_name(x.dtype));
  KESTREL_CHECK(x.shape.size() == 4 && x.shape[0] == y.shape[0] && x.shape[1] == y.shape[1],
                "{}: the CUDA backend resizes the last two axes of 4-D values only ({} -> {})", ir::describe(node),
                shape_str(x.shape), shape_str(y.shape));
  KESTREL_CHECK(node.attrs.get_int("antialias", 0) == 0 && !node.attrs.has("axes"),
                "{}: antialias and the axes attribute are not supported on CUDA", ir::describe(node));
  Resize2d p;
  p.planes = int(x.shape[0] * x.shape[1]);
  p.mode = pick<ResizeMode>(node, "mode", "nearest",
                            {{"nearest", ResizeMode::kNearest}, {"linear", ResizeMode::kLinear}, {"cubic", ResizeMode::kCubic}});
  p.rounding = pick<NearestRounding>(node, "nearest_mode", "round_prefer_floor",
                                     {{"round_prefer_floor", NearestRounding::kRoundPreferFloor},
                                      {"round_prefer_ceil", NearestRounding::kRoundPreferCeil},
                                      {"floor", NearestRounding::kFloor},
                                      {"ceil", NearestRounding::kCeil}});
  p.transform = pick<CoordinateTransform>(node, "coordinate_transformation_mode", "half_pixel",
                                          {{"half_pixel", CoordinateTransform::kHalfPixel},
                                           {"half_pixel_symmetric", CoordinateTransform::kHalfPixelSymmetric},
                                           {"pytorch_half_pixel", CoordinateTransform::kPytorchHalfPixel},
                                           {"align_corners", CoordinateTransform::kAlignCorners},
                                           {"asymmetric", CoordinateTransform::kAsymmetric},
                                           {"tf_half_pixel_for_nn", CoordinateTransform::kTfHalfPixelForNn},
                                           {"tf_crop_and_resize", CoordinateTransform::kTfCropAndResize}});
  p.cubic_a = node.attrs.get_float("cubic_coeff_a", -0.75f);
  p.exclude_outside = node.attrs.get_int("exclude_outside", 0) != 0;
  p.extrapolation_value = node.attrs.get_float("extrapolation_value", 0.f);
  const Tensor* roi = constant_input(g, node, 1);
  const Tensor* scales = constant_input(g, node, 2);
  const Tensor* sizes = constant_input(g, node, 3);
  KESTREL_CHECK(sizes || (scales && scales->numel() == 4 && scales->dtype() == DataType::kFLOAT),
                "{}: four float scales or the sizes are needed", ir::describe(node));
  KESTREL_CHECK(!roi || roi->numel() == 8, "{}: roi must hold 8 values", ir::describe(node));
  for (int d = 2; d < 4; ++d) {
    ResizeAxis& a = d == 2 ? p.y : p.x;
    a.in = int(x.shape[size_t(d)]);
    a.out = int(y.shape[size_t(d)]);
    if (sizes) {
      a.scale = a.in > 0 ? double(a.out) / double(a.in) : 1.0;
      a.length_resized = double(a.out);
    } else {
      a.scale = scales->data<float>()[d];
      a.length_resized = a.scale * double(a.in);
    }
    if (roi) {
      a.roi_start = roi->double_at(d);
      a.roi_end = roi->double_at(d + 4);
    }
  }
  return p;
}

std::string choose_resize(const ir::Graph& g, const ir::Node& node) {
  resize_params(g, node);
  return "cuda.resize2d";
}

Launch plan_resize(PlanContext& ctx, const ir::Node& node) {
  const Resize2d p = resize_params(ctx.graph, node);
  const DType dtype = to_dtype(ctx.value(node.inputs[0]).dtype);
  void* const* x = ctx.slot(node.inputs[0]);
  void* const* y = ctx.slot(node.outputs[0]);
  return [=](cudaStream_t s) { launch_resize2d(dtype, p, *x, *y, s); };
}

}  // namespace

KESTREL_REGISTER_CUDA_KERNEL("Resize", CudaKernel{choose_resize, plan_resize});

}  // namespace kestrel::cuda
