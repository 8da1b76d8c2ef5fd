// Pieces that several subcommands share.
#pragma once
#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "kestrel/kestrel.h"

namespace kestrel::cli {

// Options that choose how a model is built when an ONNX file is given in place of an engine.
struct BuildOptions {
  std::string device = "cpu";
  uint64_t workspace = 0;
  bool fp16 = false;
  bool int8 = false;
  std::vector<std::string> shapes;  // name:1x3x224x224
  int threads = 0;                  // CPU threads per inference (0: all hardware threads)
  std::string timing_cache;         // CUDA: build-time kernel timings kept between builds
  bool verbose = false;
};

void add_build_options(CLI::App& app, BuildOptions& options);
// Turns the options into a config; throws std::invalid_argument with a message on bad values.
RunnerOptions make_runner_options(const BuildOptions& options);
// Prints warnings (and info when verbose). Errors are not printed here: every API call also
// returns them as a Status, which the subcommand reports once, with its exit code.
class CliLogger : public ILogger {
 public:
  explicit CliLogger(bool verbose) : verbose_(verbose) {}
  void log(Severity severity, const char* message) noexcept override;

 private:
  bool verbose_;
};

// Prints "kestrel: <message>" to stderr and returns kExitBadInput.
int report_error(const std::string& message);

std::string format_shape(const Dims& shape);

// An engine's target fact for printing: lists (one layer name per line) print as their count.
std::string format_target_value(const std::string& value);

}  // namespace kestrel::cli
