// InstanceNormalization (with GroupNorm's per-channel affine) in one launch instead of two: each
// instance is normalised by a cluster of 8 blocks (Hopper's thread-block clusters) whose partial
// statistics meet in distributed shared memory, so no second kernel has to wait for them. SMAT's
// GroupNorms are instances of 32K to 160K elements: 8 multiprocessors stream one at full speed,
// and the second read of x comes from L2.
#include <cooperative_groups.h>

#include "backend/cuda/device_types.cuh"
#include "backend/cuda/launch.cuh"
#include "backend/cuda/welford.cuh"

namespace kestrel::cuda {
namespace {

constexpr int kClusterBlocks = 8;  // the portable maximum cluster size
constexpr int kClusterThreads = 512;

template <typename T, typename Y>
__global__ void __cluster_dims__(kClusterBlocks, 1, 1) __launch_bounds__(kClusterThreads)
    norm_cluster_kernel(const T* __restrict__ x, const T* __restrict__ scale, const T* __restrict__ bias,
                        Y* __restrict__ y, int c, int64_t spatial, float epsilon, ChannelAffine affine, float y_scale) {
  await_previous_kernel();
  namespace cg = cooperative_groups;
  cg::cluster_group cluster = cg::this_cluster();
  const int rank = int(cluster.block_rank());
  const int64_t instance = blockIdx.x / kClusterBlocks;
  const int64_t per_block = (spatial + kClusterBlocks - 1) / kClusterBlocks;
  const int64_t begin = min(spatial, rank * per_block), end = min(spatial, begin + per_block);
  const T* xi = x + instance * spatial;
  Y* yi = y + instance * spatial;

  Moments m{0.f, 0.f, 0.f};
  for (int64_t j = begin + threadIdx.x; j < end; j += blockDim.x) m = add_sample(m, to_float(xi[j]));
  m = warp_merge(m);
  __shared__ Moments warps[kClusterThreads / 32];
  __shared__ Moments block_total;  // read by the other blocks of the cluster
  __shared__ float s_mean, s_inv;
  if ((threadIdx.x & 31) == 0) warps[threadIdx.x >> 5] = m;
  __syncthreads();
  if (threadIdx.x == 0) {
    Moments total = warps[0];
    for (int w = 1; w < int(blockDim.x / 32); ++w) total = merge(total, warps[w]);
    block_total = total;
  }
  cluster.sync();  // every block's total is written
  if (threadIdx.x == 0) {
    Moments total{0.f, 0.f, 0.f};
    for (int r = 0; r < kClusterBlocks; ++r) total = merge(total, *cluster.map_shared_rank(&block_total, r));
    s_mean = total.mean;
    s_inv = rsqrtf(total.m2 / total.count + epsilon);
  }
  // No block may exit (releasing its shared memory) while another still reads its total; this
  // also publishes s_mean and s_inv to the block.
  cluster.sync();

  const int channel = int(instance % c);
  const float g = to_float(scale[channel]) * s_inv;
  const float b = to_float(bias[channel]) - s_mean * g;
  if (affine.scale == nullptr) {
    for (int64_t j = begin + threadIdx.x; j < end; j += blockDim.x)
      yi[j] = convert_or_quantize<Y>(to_float(xi[j]) * g + b, y_scale);
  } else {
    const T* cs = static_cast<const T*>(affine.scale);
    const T* cb = static_cast<const T*>(affine.bias);
    for (int64_t j = begin + threadIdx.x; j < end; j += blockDim.x) {
      const int64_t ch = ((instance * spatial + j) / affine.inner) % affine.channels;
      yi[j] = convert_or_quantize<Y>((to_float(xi[j]) * g + b) * to_float(cs[ch]) + to_float(cb[ch]), y_scale);
    }
  }
}

}  // namespace

bool instance_norm_single_pass_fits(int n, int c, int64_t spatial) {
  // Larger instances are better spread over many blocks (the two-kernel path); the grid's x
  // dimension bounds the number of instances.
  return spatial <= (int64_t(1) << 20) && int64_t(n) * c * kClusterBlocks < (int64_t(1) << 31);
}

void launch_instance_norm_single_pass(DType dtype, const void* x, const void* scale, const void* bias, void* y, int n,
                                      int c, int64_t spatial, float epsilon, const ChannelAffine& affine,
                                      cudaStream_t s, const QuantizedOutput& out) {
  if (int64_t(n) * c * spatial == 0) return;
  const unsigned blocks = unsigned(int64_t(n) * c * kClusterBlocks);
  dispatch_float(dtype, [&]<typename T>() {
    dispatch_quantized_output<T>(out, [&]<typename Y>() {
      launch(norm_cluster_kernel<T, Y>, blocks, kClusterThreads, 0, s, static_cast<const T*>(x),
             static_cast<const T*>(scale), static_cast<const T*>(bias), static_cast<Y*>(y), c, spatial, epsilon, affine,
             out.scale);
    });
  });
}

}  // namespace kestrel::cuda
