// Normalisation and reductions, all accumulating in float32: InstanceNormalization (split over
// several blocks per instance, Welford partials merged with Chan's formula), Softmax, the Reduce*
// family and ArgMax/ArgMin.
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <type_traits>

#include "backend/cuda/device_types.cuh"
#include "backend/cuda/launch.cuh"
#include "backend/cuda/welford.cuh"

namespace kestrel::cuda {
namespace {

constexpr int kNormThreads = 256;
constexpr int64_t kNormChunk = 1024;  // elements per block
constexpr int kMaxPartials = 256;

// Stage 1: moments of one chunk of one instance per block -> partials[instance * chunks + chunk].
template <typename T>
__global__ void norm_partials_kernel(const T* __restrict__ x, int64_t spatial, int chunks, Moments* partials) {
  await_previous_kernel();
  const int64_t instance = blockIdx.x / chunks;
  const int chunk = blockIdx.x % chunks;
  const int64_t begin = chunk * kNormChunk, end = min(spatial, begin + kNormChunk);
  const T* xi = x + instance * spatial;
  Moments m{0.f, 0.f, 0.f};
  for (int64_t j = begin + threadIdx.x; j < end; j += blockDim.x) {
    const float v = to_float(xi[j]);
    m.count += 1.f;
    const float delta = v - m.mean;
    m.mean += delta / m.count;
    m.m2 += delta * (v - m.mean);
  }
  m = warp_merge(m);
  __shared__ Moments warps[kNormThreads / 32];
  if ((threadIdx.x & 31) == 0) warps[threadIdx.x >> 5] = m;
  __syncthreads();
  if (threadIdx.x == 0) {
    Moments total = warps[0];
    for (int w = 1; w < int(blockDim.x / 32); ++w) total = merge(total, warps[w]);
    partials[blockIdx.x] = total;
  }
}

// Stage 2: every block merges its instance's partials, then normalises its chunk.
template <typename T, typename Y>
__global__ void norm_apply_kernel(const T* __restrict__ x, const T* __restrict__ scale, const T* __restrict__ bias,
                                  Y* __restrict__ y, int c, int64_t spatial, int chunks, float epsilon,
                                  const Moments* partials, ChannelAffine affine, float y_scale) {
  await_previous_kernel();
  const int64_t instance = blockIdx.x / chunks;
  const int chunk = blockIdx.x % chunks;
  __shared__ float s_mean, s_inv;
  if (threadIdx.x < 32) {
    Moments m{0.f, 0.f, 0.f};
    for (int i = threadIdx.x; i < chunks; i += 32) m = merge(m, partials[instance * chunks + i]);
    m = warp_merge(m);
    if (threadIdx.x == 0) {
      s_mean = m.mean;
      s_inv = rsqrtf(m.m2 / m.count + epsilon);
    }
  }
  __syncthreads();
  const int channel = int(instance % c);
  const float g = to_float(scale[channel]) * s_inv;
  const float b = to_float(bias[channel]) - s_mean * g;
  const int64_t begin = chunk * kNormChunk, end = min(spatial, begin + kNormChunk);
  const T* xi = x + instance * spatial;
  Y* yi = y + instance * spatial;
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

// ---- softmax

// One warp per line when inner == 1 (the contiguous case).
template <typename T>
__global__ void softmax_rows_kernel(const T* __restrict__ x, T* __restrict__ y, int64_t rows, int64_t length, bool log) {
  await_previous_kernel();
  const int64_t row = (blockIdx.x * int64_t(blockDim.x) + threadIdx.x) / 32;
  const int lane = threadIdx.x & 31;
  if (row >= rows) return;
  const T* xr = x + row * length;
  T* yr = y + row * length;
  float mx = -FLT_MAX;
  for (int64_t j = lane; j < length; j += 32) mx = fmaxf(mx, to_float(xr[j]));
  for (int o = 16; o > 0; o >>= 1) mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, o));
  float sum = 0.f;
  for (int64_t j = lane; j < length; j += 32) sum += expf(to_float(xr[j]) - mx);
  for (int o = 16; o > 0; o >>= 1) sum += __shfl_xor_sync(0xffffffffu, sum, o);
  const float inv = 1.f / sum, log_sum = logf(sum);
  for (int64_t j = lane; j < length; j += 32) {
    const float v = to_float(xr[j]) - mx;
    yr[j] = from_float<T>(log ? v - log_sum : expf(v) * inv);
  }
}

// One thread per (outer, inner) line otherwise.
template <typename T>
__global__ void softmax_lines_kernel(const T* __restrict__ x, T* __restrict__ y, int64_t outer, int64_t length,
                                     int64_t inner, bool log) {
  await_previous_kernel();
  const int64_t line = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  if (line >= outer * inner) return;
  const int64_t o = line / inner, in = line % inner;
  const T* xl = x + o * length * inner + in;
  T* yl = y + o * length * inner + in;
  float mx = -FLT_MAX;
  for (int64_t j = 0; j < length; ++j) mx = fmaxf(mx, to_float(xl[j * inner]));
  float sum = 0.f;
  for (int64_t j = 0; j < length; ++j) sum += expf(to_float(xl[j * inner]) - mx);
  const float inv = 1.f / sum, log_sum = logf(sum);
  for (int64_t j = 0; j < length; ++j) {
    const float v = to_float(xl[j * inner]) - mx;
    yl[j * inner] = from_float<T>(log ? v - log_sum : expf(v) * inv);
  }
}

// ---- reductions

template <ReduceOp OP, typename A>
struct Reducer {
  __device__ static A init() {
    if constexpr (OP == ReduceOp::kMax) return lowest();
    if constexpr (OP == ReduceOp::kMin) return highest();
    if constexpr (OP == ReduceOp::kProd) return A(1);
    return A(0);
  }
  __device__ static A lowest() {
    if constexpr (std::is_same_v<A, int64_t>) return INT64_MIN;
    else if constexpr (std::is_same_v<A, int32_t>) return INT32_MIN;
    else return -INFINITY;
  }
  __device__ static A highest() {
    if constexpr (std::is_same_v<A, int64_t>) return INT64_MAX;
    else if constexpr (std::is_same_v<A, int32_t>) return INT32_MAX;
    else return INFINITY;
  }
  __device__ static A step(A acc, A v) {
    if constexpr (OP == ReduceOp::kMax) return v > acc || v != v ? v : acc;
    if constexpr (OP == ReduceOp::kMin) return v < acc || v != v ? v : acc;
    if constexpr (OP == ReduceOp::kProd) return acc * v;
    if constexpr (OP == ReduceOp::kSumSquare || OP == ReduceOp::kL2) return acc + v * v;
    if constexpr (OP == ReduceOp::kL1) return acc + (v < A(0) ? A(0) - v : v);
    return acc + v;
  }
  __device__ static A combine(A a, A b) {
    if constexpr (OP == ReduceOp::kMax) return b > a || b != b ? b : a;
    if constexpr (OP == ReduceOp::kMin) return b < a || b != b ? b : a;
    if constexpr (OP == ReduceOp::kProd) return a * b;
    return a + b;
  }
  __device__ static A finish(A acc, int64_t length) {
    if constexpr (OP == ReduceOp::kMean) return acc / A(length);
    if constexpr (OP == ReduceOp::kL2) return A(sqrtf(float(acc)));
    if constexpr (OP == ReduceOp::kLogSum) return A(logf(float(acc)));
    return acc;
  }
};

template <typename T>
using Acc = std::conditional_t<IsFloatStorage<T>::value, float, T>;

template <typename T>
__device__ __forceinline__ Acc<T> load_acc(const T* p, int64_t i) {
  if constexpr (IsFloatStorage<T>::value) return to_float(p[i]);
  else return p[i];
}
template <typename T>
__device__ __forceinline__ void store_acc(T* p, int64_t i, Acc<T> v) {
  if constexpr (IsFloatStorage<T>::value) p[i] = from_float<T>(v);
  else p[i] = v;
}

// LogSumExp is computed as max + log(sum(exp(x - max))) in its own kernel below.
template <ReduceOp OP, typename T>
__global__ void reduce_rows_kernel(const T* __restrict__ x, T* __restrict__ y, int64_t rows, int64_t length) {
  await_previous_kernel();
  using A = Acc<T>;
  using R = Reducer<OP, A>;
  const int64_t row = (blockIdx.x * int64_t(blockDim.x) + threadIdx.x) / 32;
  const int lane = threadIdx.x & 31;
  if (row >= rows) return;
  A acc = R::init();
  for (int64_t j = lane; j < length; j += 32) acc = R::step(acc, load_acc(x, row * length + j));
  for (int o = 16; o > 0; o >>= 1) acc = R::combine(acc, __shfl_xor_sync(0xffffffffu, acc, o));
  if (lane == 0) store_acc(y, row, R::finish(acc, length));
}

template <ReduceOp OP, typename T>
__global__ void reduce_lines_kernel(const T* __restrict__ x, T* __restrict__ y, int64_t outer, int64_t length,
                                    int64_t inner) {
  await_previous_kernel();
  using A = Acc<T>;
  using R = Reducer<OP, A>;
  const int64_t line = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  if (line >= outer * inner) return;
  const int64_t o = line / inner, in = line % inner;
  A acc = R::init();
  for (int64_t j = 0; j < length; ++j) acc = R::step(acc, load_acc(x, (o * length + j) * inner + in));
  store_acc(y, line, R::finish(acc, length));
}

template <typename T>
__global__ void log_sum_exp_kernel(const T* __restrict__ x, T* __restrict__ y, int64_t outer, int64_t length,
                                   int64_t inner) {
  await_previous_kernel();
  const int64_t line = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  if (line >= outer * inner) return;
  const int64_t o = line / inner, in = line % inner;
  float mx = -FLT_MAX;
  for (int64_t j = 0; j < length; ++j) mx = fmaxf(mx, to_float(x[(o * length + j) * inner + in]));
  float sum = 0.f;
  for (int64_t j = 0; j < length; ++j) sum += expf(to_float(x[(o * length + j) * inner + in]) - mx);
  y[line] = from_float<T>(mx + logf(sum));
}

template <ReduceOp OP>
void reduce_dispatch(DType dtype, const void* x, void* y, int64_t outer, int64_t length, int64_t inner, cudaStream_t s) {
  dispatch_numeric(dtype, [&]<typename T>() {
    const T* in = static_cast<const T*>(x);
    T* out = static_cast<T*>(y);
    if constexpr (OP == ReduceOp::kLogSumExp) {
      if constexpr (IsFloatStorage<T>::value)
        launch(log_sum_exp_kernel<T>, grid_for(outer * inner), kThreads, 0, s, in, out, outer, length, inner);
      else
        throw std::runtime_error("ReduceLogSumExp: float input expected");
    } else if (inner == 1) {
      launch(reduce_rows_kernel<OP, T>, grid_for(outer * 32), kThreads, 0, s, in, out, outer, length);
    } else {
      launch(reduce_lines_kernel<OP, T>, grid_for(outer * inner), kThreads, 0, s, in, out, outer, length, inner);
    }
  });
}

template <typename T>
__global__ void argmax_kernel(const T* __restrict__ x, int64_t* __restrict__ y, int64_t outer, int64_t length,
                              int64_t inner, bool is_min, bool select_last) {
  await_previous_kernel();
  const int64_t line = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  if (line >= outer * inner) return;
  const int64_t o = line / inner, in = line % inner;
  using A = Acc<T>;
  int64_t best_index = 0;
  A best = load_acc(x, o * length * inner + in);
  for (int64_t j = 1; j < length; ++j) {
    const A v = load_acc(x, (o * length + j) * inner + in);
    bool replace;
    if (best != best) replace = select_last && v != v;  // the first NaN wins (the last one with select_last)
    else if (v != v) replace = true;
    else if (v == best) replace = select_last;
    else replace = is_min ? v < best : v > best;
    if (replace) {
      best = v;
      best_index = j;
    }
  }
  y[line] = best_index;
}

// Which of two (value, index) candidates the sequential scan above would end with: the first
// NaN (the last with select_last), else the extreme value, ties to the first index (the last).
template <typename A>
__device__ __forceinline__ bool prefer(A v, int64_t iv, A best, int64_t ib, bool is_min, bool select_last) {
  const bool v_nan = v != v, b_nan = best != best;
  if (v_nan != b_nan) return v_nan;
  if (v_nan || v == best) return select_last ? iv > ib : iv < ib;
  return is_min ? v < best : v > best;
}

// One block per line when the lines are few (the tracker's single arg-max over its score map): a
// thread per line would scan a whole line alone.
constexpr int kArgmaxBlockThreads = 256;

template <typename T>
__global__ void __launch_bounds__(kArgmaxBlockThreads)
    argmax_block_kernel(const T* __restrict__ x, int64_t* __restrict__ y, int64_t length, int64_t inner, bool is_min,
                        bool select_last) {
  await_previous_kernel();
  using A = Acc<T>;
  __shared__ A s_value[kArgmaxBlockThreads];
  __shared__ int64_t s_index[kArgmaxBlockThreads];
  const int64_t line = blockIdx.x;
  const int64_t o = line / inner, in = line % inner;
  int64_t best_index = -1;
  A best{};
  for (int64_t j = threadIdx.x; j < length; j += blockDim.x) {
    const A v = load_acc(x, (o * length + j) * inner + in);
    if (best_index < 0 || prefer(v, j, best, best_index, is_min, select_last)) {
      best = v;
      best_index = j;
    }
  }
  s_value[threadIdx.x] = best;
  s_index[threadIdx.x] = best_index;
  __syncthreads();
  for (int half = kArgmaxBlockThreads / 2; half > 0; half /= 2) {
    if (int(threadIdx.x) < half) {
      const A v = s_value[threadIdx.x + half];
      const int64_t iv = s_index[threadIdx.x + half];
      const int64_t ib = s_index[threadIdx.x];
      if (iv >= 0 && (ib < 0 || prefer(v, iv, s_value[threadIdx.x], ib, is_min, select_last))) {
        s_value[threadIdx.x] = v;
        s_index[threadIdx.x] = iv;
      }
    }
    __syncthreads();
  }
  if (threadIdx.x == 0) y[line] = s_index[0];
}

}  // namespace

int64_t instance_norm_workspace_bytes(int n, int c, int64_t spatial) {
  return int64_t(n) * c * norm_chunks(spatial) * int64_t(sizeof(Moments));
}

int norm_chunks(int64_t spatial) {
  const int64_t chunks = (spatial + kNormChunk - 1) / kNormChunk;
  if (chunks > int64_t(kMaxPartials) * 64) throw std::runtime_error("InstanceNormalization: instance too large");
  return int(chunks < 1 ? 1 : chunks);
}

void launch_norm_statistics(DType dtype, const void* x, int64_t instances, int64_t spatial, void* partials,
                            cudaStream_t s) {
  if (instances * spatial == 0) return;
  const int chunks = norm_chunks(spatial);
  const unsigned blocks = unsigned(instances * chunks);
  dispatch_float(dtype, [&]<typename T>() {
    launch(norm_partials_kernel<T>, blocks, kNormThreads, 0, s, static_cast<const T*>(x), spatial, chunks,
           static_cast<Moments*>(partials));
  });
}

void launch_norm_apply(DType dtype, const void* x, const void* scale, const void* bias, void* y, int n, int c,
                       int64_t spatial, float epsilon, const void* partials, const ChannelAffine& affine,
                       cudaStream_t s, const QuantizedOutput& out) {
  if (int64_t(n) * c * spatial == 0) return;
  const int chunks = norm_chunks(spatial);
  const unsigned blocks = unsigned(int64_t(n) * c * chunks);
  dispatch_float(dtype, [&]<typename T>() {
    dispatch_quantized_output<T>(out, [&]<typename Y>() {
      launch(norm_apply_kernel<T, Y>, blocks, kNormThreads, 0, s, static_cast<const T*>(x),
             static_cast<const T*>(scale), static_cast<const T*>(bias), static_cast<Y*>(y), c, spatial, chunks, epsilon,
             static_cast<const Moments*>(partials), affine, out.scale);
    });
  });
}

void launch_instance_norm_ws(DType dtype, const void* x, const void* scale, const void* bias, void* y, int n, int c,
                             int64_t spatial, float epsilon, void* workspace, const ChannelAffine& affine,
                             cudaStream_t s, const QuantizedOutput& out) {
  launch_norm_statistics(dtype, x, int64_t(n) * c, spatial, workspace, s);
  launch_norm_apply(dtype, x, scale, bias, y, n, c, spatial, epsilon, workspace, affine, s, out);
}

void launch_softmax(DType dtype, const void* x, void* y, int64_t outer, int64_t length, int64_t inner, bool log,
                    cudaStream_t s) {
  if (outer * length * inner == 0) return;
  dispatch_float(dtype, [&]<typename T>() {
    if (inner == 1)
      launch(softmax_rows_kernel<T>, grid_for(outer * 32), kThreads, 0, s, static_cast<const T*>(x), static_cast<T*>(y),
             outer, length, log);
    else
      launch(softmax_lines_kernel<T>, grid_for(outer * inner), kThreads, 0, s, static_cast<const T*>(x),
             static_cast<T*>(y), outer, length, inner, log);
  });
}

void launch_reduce(ReduceOp op, DType dtype, const void* x, void* y, int64_t outer, int64_t length, int64_t inner,
                   cudaStream_t s) {
  if (outer * inner == 0) return;
  switch (op) {
    case ReduceOp::kSum: return reduce_dispatch<ReduceOp::kSum>(dtype, x, y, outer, length, inner, s);
    case ReduceOp::kMean: return reduce_dispatch<ReduceOp::kMean>(dtype, x, y, outer, length, inner, s);
    case ReduceOp::kMax: return reduce_dispatch<ReduceOp::kMax>(dtype, x, y, outer, length, inner, s);
    case ReduceOp::kMin: return reduce_dispatch<ReduceOp::kMin>(dtype, x, y, outer, length, inner, s);
    case ReduceOp::kProd: return reduce_dispatch<ReduceOp::kProd>(dtype, x, y, outer, length, inner, s);
    case ReduceOp::kSumSquare: return reduce_dispatch<ReduceOp::kSumSquare>(dtype, x, y, outer, length, inner, s);
    case ReduceOp::kL1: return reduce_dispatch<ReduceOp::kL1>(dtype, x, y, outer, length, inner, s);
    case ReduceOp::kL2: return reduce_dispatch<ReduceOp::kL2>(dtype, x, y, outer, length, inner, s);
    case ReduceOp::kLogSum: return reduce_dispatch<ReduceOp::kLogSum>(dtype, x, y, outer, length, inner, s);
    case ReduceOp::kLogSumExp: return reduce_dispatch<ReduceOp::kLogSumExp>(dtype, x, y, outer, length, inner, s);
  }
}

void launch_argmax(DType dtype, const void* x, int64_t* y, int64_t outer, int64_t length, int64_t inner, bool is_min,
                   bool select_last, cudaStream_t s) {
  if (outer * inner == 0 || length == 0) return;
  // Few long lines: a block each, rather than one thread scanning each line alone.
  const bool per_block = outer * inner <= 1024 && length >= 64;
  dispatch_numeric(dtype, [&]<typename T>() {
    if (per_block)
      launch(argmax_block_kernel<T>, unsigned(outer * inner), kArgmaxBlockThreads, 0, s, static_cast<const T*>(x), y,
             length, inner, is_min, select_last);
    else
      launch(argmax_kernel<T>, grid_for(outer * inner), kThreads, 0, s, static_cast<const T*>(x), y, outer, length,
             inner, is_min, select_last);
  });
}

}  // namespace kestrel::cuda
