// The plug-in's table of CUDA services for the tracker (see src/tracker/gpu_api.h for why it is a
// C table). Each entry wraps one CUDA runtime call and turns its error into a message.
#include <cuda_runtime.h>

#include <string>

#include <fmt/format.h>

#include "backend/cuda/tracker_crop.h"
#include "tracker/gpu_api.h"

namespace kestrel::cuda {
namespace {

// nullptr for success, else "what: CUDA error N (text)" kept in a per-thread string.
const char* status(cudaError_t error, const char* what) {
  if (error == cudaSuccess) return nullptr;
  cudaGetLastError();  // clear a sticky launch error so that later calls report their own
  thread_local std::string message;
  message = fmt::format("{}: CUDA error {} ({})", what, int(error), cudaGetErrorString(error));
  return message.c_str();
}

const char* stream_create(void** stream) {
  cudaStream_t s = nullptr;
  const char* e = status(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking), "cudaStreamCreate");
  *stream = s;
  return e;
}
const char* stream_destroy(void* stream) {
  return status(cudaStreamDestroy(static_cast<cudaStream_t>(stream)), "cudaStreamDestroy");
}
const char* stream_synchronize(void* stream) {
  const char* e = status(cudaStreamSynchronize(static_cast<cudaStream_t>(stream)), "cudaStreamSynchronize");
  return e != nullptr ? e : status(cudaGetLastError(), "a kernel on the tracker's stream");
}
const char* device_alloc(void** ptr, size_t bytes) {
  *ptr = nullptr;
  return bytes == 0 ? nullptr : status(cudaMalloc(ptr, bytes), "cudaMalloc");
}
const char* device_free(void* ptr) { return status(cudaFree(ptr), "cudaFree"); }
const char* pinned_alloc(void** ptr, size_t bytes) {
  *ptr = nullptr;
  return bytes == 0 ? nullptr : status(cudaMallocHost(ptr, bytes), "cudaMallocHost");
}
const char* pinned_free(void* ptr) { return status(cudaFreeHost(ptr), "cudaFreeHost"); }
const char* copy_async(void* dst, const void* src, size_t bytes, void* stream) {
  if (bytes == 0) return nullptr;
  return status(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDefault, static_cast<cudaStream_t>(stream)),
                "cudaMemcpyAsync");
}
const char* memset_async(void* dst, int value, size_t bytes, void* stream) {
  if (bytes == 0) return nullptr;
  return status(cudaMemsetAsync(dst, value, bytes, static_cast<cudaStream_t>(stream)), "cudaMemsetAsync");
}
const char* event_create(void** event) {
  cudaEvent_t e = nullptr;
  const char* error = status(cudaEventCreate(&e), "cudaEventCreate");
  *event = e;
  return error;
}
const char* event_destroy(void* event) { return status(cudaEventDestroy(static_cast<cudaEvent_t>(event)), "cudaEventDestroy"); }
const char* event_record(void* event, void* stream) {
  return status(cudaEventRecord(static_cast<cudaEvent_t>(event), static_cast<cudaStream_t>(stream)), "cudaEventRecord");
}
const char* event_elapsed_ms(float* ms, void* start, void* end) {
  return status(cudaEventElapsedTime(ms, static_cast<cudaEvent_t>(start), static_cast<cudaEvent_t>(end)),
                "cudaEventElapsedTime");
}
const char* crop_resize_normalize(const KestrelGpuCropJob* jobs, int32_t job_count, int32_t out_size, int32_t out_type,
                                  void* stream) {
  return status(launch_tracker_crop(jobs, job_count, out_size, KestrelGpuCropType(out_type),
                                    static_cast<cudaStream_t>(stream)),
                "the tracker's crop kernel");
}

const KestrelTrackerGpuApi kTable = {
    KESTREL_TRACKER_GPU_ABI, stream_create, stream_destroy, stream_synchronize, device_alloc, device_free,
    pinned_alloc, pinned_free, copy_async, memset_async, event_create, event_destroy, event_record,
    event_elapsed_ms, crop_resize_normalize,
};

}  // namespace
}  // namespace kestrel::cuda

// Looked up by name (engine::plugin_symbol) once the plug-in is loaded.
extern "C" __attribute__((visibility("default"))) const KestrelTrackerGpuApi* kestrel_tracker_gpu_api(void) {
  return &kestrel::cuda::kTable;
}
