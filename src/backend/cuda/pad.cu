// Pad on any rank and element type (kernels.h, "Pad"), with the reference's index rules
// (src/backend/cpu/reference/movement.cpp, padded_source).
#include "backend/cuda/device_types.cuh"
#include "backend/cuda/launch.cuh"

namespace kestrel::cuda {
namespace {

// The input index output index `o` reads along an axis of `n` elements, or -1 for the constant.
__device__ __forceinline__ int64_t padded_source(int64_t o, int64_t begin, int64_t n, PadMode mode) {
  const int64_t i = o - begin;
  if (i >= 0 && i < n) return i;
  switch (mode) {
    case PadMode::kConstant: return -1;
    case PadMode::kEdge: return i < 0 ? 0 : n - 1;
    case PadMode::kWrap: return ((i % n) + n) % n;
    case PadMode::kReflect: break;
  }
  if (n == 1) return 0;
  const int64_t period = 2 * (n - 1);
  const int64_t r = ((i % period) + period) % period;
  return r < n ? r : period - r;
}

template <typename T>
__global__ void pad_kernel(Pad p, const T* __restrict__ in, T* __restrict__ out) {
  await_previous_kernel();
  T fill;
  memcpy(&fill, &p.fill, sizeof(T));
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < p.n; i += int64_t(gridDim.x) * blockDim.x) {
    int64_t rest = i, offset = 0, in_stride = 1;
    bool constant = false;
    for (int d = p.rank - 1; d >= 0; --d) {
      const int64_t c = rest % p.out_dims[d];
      rest /= p.out_dims[d];
      const int64_t source = padded_source(c, p.begin[d], p.in_dims[d], p.mode);
      constant = constant || source < 0;
      offset += source * in_stride;
      in_stride *= p.in_dims[d];
    }
    out[i] = constant ? fill : in[offset];
  }
}

}  // namespace

void launch_pad(int element_size, const Pad& p, const void* in, void* out, cudaStream_t s) {
  if (p.n == 0) return;
  dispatch_size(element_size, [&]<typename T>() {
    launch(pad_kernel<T>, grid_for(p.n), kThreads, 0, s, p, static_cast<const T*>(in), static_cast<T*>(out));
  });
}

}  // namespace kestrel::cuda
