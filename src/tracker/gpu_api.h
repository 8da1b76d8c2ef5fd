// What the CUDA plug-in (libkestrel_cuda.so) lends the tracker: streams, device and pinned
// memory, copies, events and the crop kernel, as a table of plain C functions.
//
// Why a table: the tracker lives in libkestrel.so, which must not link the CUDA runtime (CPU-only
// programs would load it at start-up). The plug-in is loaded with dlopen on first use of a CUDA
// engine; the tracker then asks it for this table by name (engine::plugin_symbol) and calls
// through it. Plain C types only, so that nothing of cudart's headers leaks into libkestrel.
#pragma once
#include <cstddef>
#include <cstdint>

extern "C" {

// Bumped whenever the table or the job layout changes; the tracker refuses a mismatched plug-in.
#define KESTREL_TRACKER_GPU_ABI 1
// The name the plug-in exports: `const KestrelTrackerGpuApi* kestrel_tracker_gpu_api(void)`.
#define KESTREL_TRACKER_GPU_API_SYMBOL "kestrel_tracker_gpu_api"

// One batch slot's crop: the same arguments as tracker::crop_resize_normalize, with the frame in
// device memory. Only the part of the frame the crop reads needs to be there (`region`): the
// pixels of image columns [max(x1, 0), min(x1 + size, W - 1)) and the same rows (see crop.h for
// why the last column and row are never read); a whole frame is a valid region too.
struct KestrelGpuCropJob {
  const uint8_t* region;   // device: RGB bytes, first byte = image pixel (region_x, region_y)
  int64_t region_row_bytes;  // bytes from one region row to the next
  int32_t region_x, region_y;  // where the region starts in the image
  int32_t image_width, image_height;
  int64_t x1, y1, size;    // the crop window (tracker::CropWindow), in image pixels
  void* out;               // device: [3, out_size, out_size] in the launch's output type
};

// Output element types of the crop (the engine binding's type).
enum KestrelGpuCropType : int32_t { KESTREL_GPU_CROP_FLOAT32 = 0, KESTREL_GPU_CROP_FLOAT16 = 1 };

// Every function returns nullptr on success, else a message naming the CUDA error (valid until
// the next call on the same thread). Streams and events are cudaStream_t / cudaEvent_t.
struct KestrelTrackerGpuApi {
  uint32_t abi_version;  // KESTREL_TRACKER_GPU_ABI
  const char* (*stream_create)(void** stream);
  const char* (*stream_destroy)(void* stream);
  const char* (*stream_synchronize)(void* stream);
  const char* (*device_alloc)(void** ptr, size_t bytes);
  const char* (*device_free)(void* ptr);
  const char* (*pinned_alloc)(void** ptr, size_t bytes);  // page-locked host memory
  const char* (*pinned_free)(void* ptr);
  // Any direction (unified addressing tells them apart); async on `stream`.
  const char* (*copy_async)(void* dst, const void* src, size_t bytes, void* stream);
  const char* (*memset_async)(void* dst, int value, size_t bytes, void* stream);
  const char* (*event_create)(void** event);
  const char* (*event_destroy)(void* event);
  const char* (*event_record)(void* event, void* stream);
  const char* (*event_elapsed_ms)(float* ms, void* start, void* end);
  // One kernel for all `job_count` jobs (`jobs` in device memory): crop, OpenCV INTER_LINEAR
  // resize to out_size x out_size, RGB / 255 in CHW order, exactly as crop_resize_normalize.
  const char* (*crop_resize_normalize)(const KestrelGpuCropJob* jobs, int32_t job_count, int32_t out_size,
                                       int32_t out_type, void* stream);
};

typedef const KestrelTrackerGpuApi* (*KestrelTrackerGpuApiFunction)(void);

}  // extern "C"
