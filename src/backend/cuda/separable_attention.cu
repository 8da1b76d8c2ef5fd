// kestrel.SeparableAttention in one kernel: the seven layers of MobileViTv2's separable attention
// between its two 1x1 projections (Split, Softmax, Mul, ReduceSum, Expand, Relu, Mul) cost seven
// launches and four intermediate tensors; here each block recomputes the query softmax of one
// (batch, position) in shared memory (tokens are few, so that is cheaper than another launch)
// and its warps reduce the keys of a few channels against it, then write relu(V) * context.
#include <cfloat>

#include "backend/cuda/device_types.cuh"
#include "backend/cuda/launch.cuh"

namespace kestrel::cuda {
namespace {

constexpr int kAttentionThreads = 256;
constexpr int kChannelsPerBlock = 16;

__device__ __forceinline__ float warp_sum(float v) {
#pragma unroll
  for (int offset = 16; offset > 0; offset /= 2) v += __shfl_xor_sync(0xffffffffu, v, offset);
  return v;
}

__device__ __forceinline__ float warp_max(float v) {
#pragma unroll
  for (int offset = 16; offset > 0; offset /= 2) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, offset));
  return v;
}

// Block-wide reduction; every thread gets the result. `scratch` holds one float per warp.
template <bool kMax>
__device__ float block_reduce(float v, float* scratch) {
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32, warps = blockDim.x / 32;
  v = kMax ? warp_max(v) : warp_sum(v);
  __syncthreads();  // scratch may still be read by a previous reduction
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  v = lane < warps ? scratch[lane] : (kMax ? -FLT_MAX : 0.f);
  return kMax ? warp_max(v) : warp_sum(v);
}

template <typename T, typename Y>
__global__ void __launch_bounds__(kAttentionThreads)
    separable_attention_kernel(SeparableAttentionShape p, const T* __restrict__ qkv, Y* __restrict__ y, float y_scale) {
  await_previous_kernel();
  extern __shared__ float weights[];  // p.tokens softmax numerators
  __shared__ float scratch[32];
  const int position = blockIdx.y, b = blockIdx.z;
  const int64_t plane = int64_t(p.positions) * p.tokens;  // elements of one channel
  const T* base = qkv + int64_t(b) * (1 + 2 * int64_t(p.channels)) * plane + int64_t(position) * p.tokens;

  float local_max = -FLT_MAX;
  for (int t = threadIdx.x; t < p.tokens; t += blockDim.x) {
    const float q = to_float(base[t]);
    weights[t] = q;
    local_max = fmaxf(local_max, q);
  }
  const float max_q = block_reduce<true>(local_max, scratch);
  float local_sum = 0.f;
  for (int t = threadIdx.x; t < p.tokens; t += blockDim.x) {
    const float e = expf(weights[t] - max_q);
    weights[t] = e;
    local_sum += e;
  }
  const float inv_sum = 1.f / block_reduce<false>(local_sum, scratch);  // also orders the weights' writes

  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32, warps = blockDim.x / 32;
  const int c_end = min(p.channels, int(blockIdx.x + 1) * kChannelsPerBlock);
  for (int c = int(blockIdx.x) * kChannelsPerBlock + warp; c < c_end; c += warps) {
    const T* key = base + int64_t(1 + c) * plane;
    const T* value = base + int64_t(1 + p.channels + c) * plane;
    float dot = 0.f;
    for (int t = lane; t < p.tokens; t += 32) dot = fmaf(to_float(key[t]), weights[t], dot);
    const float context = warp_sum(dot) * inv_sum;
    Y* out = y + ((int64_t(b) * p.channels + c) * p.positions + position) * p.tokens;
    for (int t = lane; t < p.tokens; t += 32) {
      const float v = to_float(value[t]);
      out[t] = convert_or_quantize<Y>((v > 0.f ? v : 0.f) * context, y_scale);
    }
  }
}

}  // namespace

void launch_separable_attention(DType dtype, const SeparableAttentionShape& p, const void* qkv, void* y,
                                cudaStream_t s, const QuantizedOutput& out) {
  if (int64_t(p.batch) * p.channels * p.positions * p.tokens == 0) return;
  if (p.tokens > kSeparableAttentionMaxTokens) throw std::runtime_error("SeparableAttention: too many tokens");
  const dim3 grid(unsigned((p.channels + kChannelsPerBlock - 1) / kChannelsPerBlock), unsigned(p.positions),
                  unsigned(p.batch));
  const size_t shared = size_t(p.tokens) * sizeof(float);
  dispatch_float(dtype, [&]<typename T>() {
    dispatch_quantized_output<T>(out, [&]<typename Y>() {
      launch(separable_attention_kernel<T, Y>, grid, kAttentionThreads, shared, s, p, static_cast<const T*>(qkv),
             static_cast<Y*>(y), out.scale);
    });
  });
}

}  // namespace kestrel::cuda
