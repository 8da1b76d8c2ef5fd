// The tracker's crop, resize and normalisation as one kernel for every batch slot: the GPU twin
// of tracker::crop_resize_normalize (src/tracker/crop.cpp), computed with the same float and
// double operations in the same order, so that both give the same bits. The `_rn` intrinsics are
// there for that: they keep nvcc from contracting a multiply and an add into an FMA, which the
// host code (x86-64 without -mfma) never does.
#include <cuda_fp16.h>

#include "backend/cuda/launch.cuh"
#include "backend/cuda/tracker_crop.h"

namespace kestrel::cuda {
namespace {

// One output coordinate's two source samples along an axis (image coordinates; -1 where the crop
// is padding) and the weight of the second: OpenCV's INTER_LINEAR positions with the official
// crop's bounds, as axis_taps() in crop.cpp.
struct Taps {
  int64_t first, second;
  float weight;
};

__device__ Taps axis_taps(int64_t start, int64_t size, int64_t extent, int out_size, int o) {
  const int64_t end = start + size;
  const int64_t end_valid = end <= extent - 1 ? end : extent - 1;  // the official last-column quirk
  const double scale = double(size) / double(out_size);
  float f = float(__dadd_rn(__dmul_rn(double(o) + 0.5, scale), -0.5));  // OpenCV works in float
  int64_t s = int64_t(floorf(f));
  f -= float(s);
  if (s < 0) s = 0, f = 0;
  if (s >= size - 1) s = size - 1, f = 0;
  const int64_t s1 = s + 1 < size - 1 ? s + 1 : size - 1;
  const int64_t c0 = start + s, c1 = start + s1;
  return {c0 >= 0 && c0 < end_valid ? c0 : -1, c1 >= 0 && c1 < end_valid ? c1 : -1, f};
}

__device__ inline float lerp_rn(float a, float b, float w) {
  return __fadd_rn(__fmul_rn(a, 1.0f - w), __fmul_rn(b, w));
}

template <typename T>
__device__ inline T to_output(float v);
template <>
__device__ inline float to_output<float>(float v) { return v; }
template <>
__device__ inline __half to_output<__half>(float v) { return __float2half_rn(v); }

// blockIdx.y: the job; x threads: output pixels of that job.
template <typename T>
__global__ void crop_kernel(const KestrelGpuCropJob* __restrict__ jobs, int out_size) {
  await_previous_kernel();
  const KestrelGpuCropJob job = jobs[blockIdx.y];
  const int64_t plane = int64_t(out_size) * out_size;
  const int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= plane) return;
  const int ox = int(i % out_size), oy = int(i / out_size);
  const Taps tx = axis_taps(job.x1, job.size, job.image_width, out_size, ox);
  const Taps ty = axis_taps(job.y1, job.size, job.image_height, out_size, oy);
  // Region rows and byte offsets of the four taps (nullptr / -1 for padding).
  const uint8_t* row0 = ty.first >= 0 ? job.region + (ty.first - job.region_y) * job.region_row_bytes : nullptr;
  const uint8_t* row1 = ty.second >= 0 ? job.region + (ty.second - job.region_y) * job.region_row_bytes : nullptr;
  const int64_t col0 = tx.first >= 0 ? (tx.first - job.region_x) * 3 : -1;
  const int64_t col1 = tx.second >= 0 ? (tx.second - job.region_x) * 3 : -1;
  T* out = static_cast<T*>(job.out);
  constexpr float kInv255 = 1.0f / 255.0f;
#pragma unroll
  for (int c = 0; c < 3; ++c) {
    auto sample = [&](const uint8_t* row, int64_t col) -> float {
      return row != nullptr && col >= 0 ? float(row[col + c]) : 0.0f;
    };
    // Horizontal first, then vertical, as OpenCV (and the host code) does.
    const float top = lerp_rn(sample(row0, col0), sample(row0, col1), tx.weight);
    const float bottom = lerp_rn(sample(row1, col0), sample(row1, col1), tx.weight);
    out[c * plane + i] = to_output<T>(__fmul_rn(lerp_rn(top, bottom, ty.weight), kInv255));
  }
}

}  // namespace

cudaError_t launch_tracker_crop(const KestrelGpuCropJob* jobs, int32_t job_count, int32_t out_size,
                                KestrelGpuCropType out_type, cudaStream_t stream) {
  if (job_count <= 0) return cudaSuccess;
  if (out_size <= 0 || job_count > 65535) return cudaErrorInvalidValue;
  constexpr int kThreads = 256;
  const int64_t plane = int64_t(out_size) * out_size;
  const dim3 grid(unsigned((plane + kThreads - 1) / kThreads), unsigned(job_count));
  if (out_type == KESTREL_GPU_CROP_FLOAT16)
    launch(crop_kernel<__half>, grid, kThreads, 0, stream, jobs, out_size);
  else if (out_type == KESTREL_GPU_CROP_FLOAT32)
    launch(crop_kernel<float>, grid, kThreads, 0, stream, jobs, out_size);
  else
    return cudaErrorInvalidValue;
  return cudaGetLastError();
}

}  // namespace kestrel::cuda
