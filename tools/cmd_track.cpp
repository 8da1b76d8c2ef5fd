// kestrel track --template-engine T --track-engine E --images DIR --init x,y,w,h [-o boxes.txt]
//               [--visualize OUT_DIR] [--device cpu|cuda] [--fp16] [--int8] [-v]
// Tracks one target through an image folder with SMAT; one x,y,w,h line per frame.
#include <chrono>
#include <cmath>
#include <filesystem>

#include <fmt/format.h>

#include "cli_common.h"
#include "core/error.h"
#include "core/file_io.h"
#include "eval/text_io.h"
#include "subcommand.h"
#include "synth/jpeg_io.h"
#include "tracker/batch_tracker.h"
#include "tracker/frames.h"

namespace kestrel::cli {
namespace {

struct TrackOptions {
  std::string template_engine, track_engine, images, init, output, visualize;
  BuildOptions build;
};

// "x,y,w,h" with a positive width and height; throws kestrel::Error with the reason.
tracker::Box parse_box(const std::string& text) {
  std::vector<double> values;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t end = std::min(text.find(',', start), text.size());
    const std::string part = text.substr(start, end - start);
    size_t used = 0;
    double value = NAN;
    try {
      value = std::stod(part, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    KESTREL_CHECK(!part.empty() && used == part.size() && std::isfinite(value), "--init '{}': '{}' is not a number",
                  text, part);
    values.push_back(value);
    start = end + 1;
  }
  KESTREL_CHECK(values.size() == 4, "--init '{}': expected x,y,w,h", text);
  KESTREL_CHECK(values[2] > 0 && values[3] > 0, "--init '{}': the box must have a positive width and height", text);
  return {values[0], values[1], values[2], values[3]};
}

int run(const TrackOptions& opt) {
  CliLogger logger(opt.build.verbose);
  tracker::Box init;
  std::vector<std::string> frames;
  std::unique_ptr<tracker::SmatNetworks> networks;
  try {
    init = parse_box(opt.init);
    frames = tracker::list_frames(opt.images);
    tracker::EngineLoadOptions load{make_runner_options(opt.build).config, 1};
    networks = std::make_unique<tracker::SmatNetworks>(opt.template_engine, opt.track_engine, load, logger);
    if (!opt.visualize.empty()) std::filesystem::create_directories(opt.visualize);
  } catch (const std::exception& e) {
    return report_error(e.what());
  }
  if (opt.build.verbose) fmt::print(stderr, "kestrel: {}\n", networks->describe());

  tracker::SmatTracker smat(*networks);
  std::vector<tracker::Box> boxes;
  double tracking_seconds = 0, inverse_sum = 0;
  try {
    for (size_t f = 0; f < frames.size(); ++f) {
      synth::RgbImage image = tracker::read_frame(frames[f]);
      const auto start = std::chrono::steady_clock::now();
      if (f == 0) {
        smat.init(image, init);
        boxes.push_back(init);
      } else {
        boxes.push_back(smat.track(image));
      }
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      if (f > 0) tracking_seconds += seconds, inverse_sum += seconds > 0 ? 1.0 / seconds : 0;
      if (!opt.visualize.empty()) {
        tracker::draw_box(image, boxes.back(), {255, 40, 40});
        const std::string name = std::filesystem::path(frames[f]).stem().string() + ".jpg";
        synth::write_jpeg((std::filesystem::path(opt.visualize) / name).string(), image, 90);
      }
    }
    const std::string text = eval::format_boxes(boxes);
    if (opt.output.empty()) fmt::print("{}", text);
    else write_file_atomic(opt.output, text.data(), text.size());
  } catch (const std::exception& e) {
    return report_error(e.what());
  }
  if (frames.size() > 1) {
    const double tracked = double(frames.size() - 1);
    fmt::print(stderr, "kestrel: tracked {} frames: {:.1f} fps (crop + inference + decode; {:.1f} as the mean of 1/t)\n",
               frames.size(), tracked / tracking_seconds, inverse_sum / tracked);
    if (opt.build.verbose) fmt::print(stderr, "kestrel: {}\n", tracker::format_stage_times(smat.stage_times()));
  }
  return kExitOk;
}

std::function<int()> setup(CLI::App& app) {
  auto opt = std::make_shared<TrackOptions>();
  app.add_option("--template-engine", opt->template_engine, "Template network: engine file or ONNX model")->required();
  app.add_option("--track-engine", opt->track_engine, "Tracking network: engine file or ONNX model")->required();
  app.add_option("--images", opt->images, "Folder of frames (*.jpg, in name order)")->required();
  app.add_option("--init", opt->init, "The target in the first frame: x,y,w,h in pixels")->required();
  app.add_option("-o,--output", opt->output, "Write the boxes here (default: standard output)");
  app.add_option("--visualize", opt->visualize, "Write each frame with its box drawn into this folder");
  // How ONNX files given in place of engines are built (the shared options of `kestrel build`).
  app.add_option("--device", opt->build.device, "Device to build ONNX models for")->check(CLI::IsMember({"cpu", "cuda"}));
  app.add_flag("--fp16", opt->build.fp16, "Allow FP16 layers when building ONNX models");
  app.add_flag("--int8", opt->build.int8, "Allow INT8 layers when building ONNX models");
  app.add_flag("-v,--verbose", opt->build.verbose, "Print the builder's progress and the networks' shapes");
  return [opt] { return run(*opt); };
}

KESTREL_REGISTER_SUBCOMMAND(Subcommand{"track", "Track a target through an image folder with SMAT", setup});

}  // namespace
}  // namespace kestrel::cli
