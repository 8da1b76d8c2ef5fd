// Data movement kernels: the strided copy behind Transpose, Slice, Expand, Concat, Split and
// DepthToSpace, and GatherElements.
#include "backend/cuda/device_types.cuh"
#include "backend/cuda/launch.cuh"

namespace kestrel::cuda {
namespace {

template <typename T>
__global__ void strided_copy_kernel(StridedCopy p, const T* __restrict__ in, T* __restrict__ out) {
  await_previous_kernel();
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < p.n; i += int64_t(gridDim.x) * blockDim.x) {
    int64_t rest = i, src = p.in_base, dst = p.out_base;
    for (int d = p.rank - 1; d >= 0; --d) {
      const int64_t c = rest % p.dims[d];
      rest /= p.dims[d];
      src += c * p.in_strides[d];
      dst += c * p.out_strides[d];
    }
    out[dst] = in[src];
  }
}

template <typename T, typename I>
__global__ void gather_elements_kernel(GatherElements p, const T* __restrict__ data, const I* __restrict__ index,
                                       T* __restrict__ out) {
  await_previous_kernel();
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < p.n; i += int64_t(gridDim.x) * blockDim.x) {
    int64_t rest = i, src = 0;
    for (int d = p.rank - 1; d >= 0; --d) {
      int64_t c = rest % p.dims[d];
      rest /= p.dims[d];
      if (d == p.axis) {
        c = int64_t(index[i]);
        if (c < 0) c += p.axis_size;
        c = c < 0 ? 0 : (c >= p.axis_size ? p.axis_size - 1 : c);  // out-of-range indices clamp
      }
      src += c * p.data_strides[d];
    }
    out[i] = data[src];
  }
}

template <typename T, typename I>
__global__ void gather_kernel(Gather p, const T* __restrict__ data, const I* __restrict__ index, T* __restrict__ out) {
  await_previous_kernel();
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < p.n; i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t r = i % p.inner, t = i / p.inner, j = t % p.count, o = t / p.count;
    int64_t c = int64_t(index[j]);
    if (c < 0) c += p.axis_size;
    c = c < 0 ? 0 : (c >= p.axis_size ? p.axis_size - 1 : c);
    out[i] = data[(o * p.axis_size + c) * p.inner + r];
  }
}

}  // namespace

void launch_strided_copy(int element_size, const StridedCopy& p, const void* in, void* out, cudaStream_t s) {
  if (p.n == 0) return;
  dispatch_size(element_size, [&]<typename T>() {
    launch(strided_copy_kernel<T>, grid_for(p.n), kThreads, 0, s, p, static_cast<const T*>(in), static_cast<T*>(out));
  });
}

void launch_gather_elements(int element_size, DType index_type, const GatherElements& p, const void* data,
                            const void* index, void* out, cudaStream_t s) {
  if (p.n == 0) return;
  dispatch_size(element_size, [&]<typename T>() {
    if (index_type == DType::kI64)
      launch(gather_elements_kernel<T, int64_t>, grid_for(p.n), kThreads, 0, s, p, static_cast<const T*>(data),
             static_cast<const int64_t*>(index), static_cast<T*>(out));
    else
      launch(gather_elements_kernel<T, int32_t>, grid_for(p.n), kThreads, 0, s, p, static_cast<const T*>(data),
             static_cast<const int32_t*>(index), static_cast<T*>(out));
  });
}

void launch_gather(int element_size, DType index_type, const Gather& p, const void* data, const void* index, void* out,
                   cudaStream_t s) {
  if (p.n == 0) return;
  dispatch_size(element_size, [&]<typename T>() {
    if (index_type == DType::kI64)
      launch(gather_kernel<T, int64_t>, grid_for(p.n), kThreads, 0, s, p, static_cast<const T*>(data),
             static_cast<const int64_t*>(index), static_cast<T*>(out));
    else
      launch(gather_kernel<T, int32_t>, grid_for(p.n), kThreads, 0, s, p, static_cast<const T*>(data),
             static_cast<const int32_t*>(index), static_cast<T*>(out));
  });
}

}  // namespace kestrel::cuda
