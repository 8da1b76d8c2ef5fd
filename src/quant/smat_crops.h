// Calibration (and evaluation) samples for SMAT's two networks from a GOT-10k-layout dataset,
// made by the tracker's own crop code so that they look exactly like what the tracker feeds:
//  - the template network (input `template`): template crops (factor 2) around groundtruth boxes;
//  - the tracking network (inputs `z`, `x`): the search crop (factor 4) of frame t around the
//    box of frame t-1, as while tracking, and z from the FP32 template network on the sequence's
//    first-frame template crop.
// Frames are spread evenly over the split's sequences; the order is fixed, so runs repeat.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "kestrel/quant.h"

namespace kestrel::quant {

// `path` is a split folder (holding list.txt) or a dataset root with a calib/ split. Throws
// kestrel::Error naming the folder, or the model input that is not SMAT's.
std::unique_ptr<ICalibrator> make_smat_crop_calibrator(const std::string& path, const std::vector<std::string>& inputs,
                                                       const CalibrationDataOptions& options, ILogger& logger);

}  // namespace kestrel::quant
