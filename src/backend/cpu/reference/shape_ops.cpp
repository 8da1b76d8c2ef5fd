// Reference kernels of Shape, Size and the ops that keep the elements in place and only change
// the shape (Reshape, Flatten, Squeeze, Unsqueeze): their output shape was fixed by inference.
#include <algorithm>
#include <cstring>

#include "backend/cpu/reference/kernel_registry.h"
#include "core/error.h"

namespace kestrel::cpu {
namespace {

int64_t clamp_shape_bound(int64_t bound, int rank) {
  if (bound < 0) bound += rank;
  return std::clamp<int64_t>(bound, 0, rank);
}

void shape_kernel(const KernelContext& ctx) {
  const Shape& in = ctx.input(0).shape();
  const int rank = int(in.size());
  const int64_t start = ctx.opset() >= 15 ? clamp_shape_bound(ctx.attrs().get_int("start", 0), rank) : 0;
  Tensor& out = ctx.output(0);
  for (int64_t i = 0; i < out.numel(); ++i) out.data<int64_t>()[i] = in[size_t(start + i)];
}

void size_kernel(const KernelContext& ctx) { ctx.output(0).data<int64_t>()[0] = ctx.input(0).numel(); }

// Row-major order is unchanged by a reshape, so the bytes are copied as they are.
void copy_elements_kernel(const KernelContext& ctx) {
  const Tensor& in = ctx.input(0);
  Tensor& out = ctx.output(0);
  KESTREL_CHECK(in.nbytes() == out.nbytes(), "input {} and output {} hold different numbers of elements",
                shape_str(in.shape()), shape_str(out.shape()));
  if (in.nbytes() != 0 && in.raw() != out.raw()) std::memcpy(out.raw(), in.raw(), in.nbytes());
}

}  // namespace

KESTREL_REGISTER_REFERENCE_KERNEL("Shape", shape_kernel);
KESTREL_REGISTER_REFERENCE_KERNEL("Size", size_kernel);
KESTREL_REGISTER_REFERENCE_KERNEL("Reshape", copy_elements_kernel);
KESTREL_REGISTER_REFERENCE_KERNEL("Flatten", copy_elements_kernel);
KESTREL_REGISTER_REFERENCE_KERNEL("Squeeze", copy_elements_kernel);
KESTREL_REGISTER_REFERENCE_KERNEL("Unsqueeze", copy_elements_kernel);

}  // namespace kestrel::cpu
