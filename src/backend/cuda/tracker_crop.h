// The tracker's crop kernel (tracker_crop.cu), called through the plug-in's tracker table
// (tracker_gpu_api.cpp).
#pragma once
#include <cstdint>

#include <cuda_runtime.h>

#include "tracker/gpu_api.h"

namespace kestrel::cuda {

// Queues one kernel that fills every job's [3, out_size, out_size] output (see gpu_api.h);
// `jobs` lives in device memory. Returns the launch's error, without synchronising.
cudaError_t launch_tracker_crop(const KestrelGpuCropJob* jobs, int32_t job_count, int32_t out_size,
                                KestrelGpuCropType out_type, cudaStream_t stream);

}  // namespace kestrel::cuda
