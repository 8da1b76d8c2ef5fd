// Damaged inputs must give a Status with a reason, never a crash: random byte damage to a valid
// ONNX model and to a valid engine file (with the checksum recomputed, so that the structural
// checks behind it are reached too).
#include <cstring>
#include <random>

#include <gtest/gtest.h>
#include <zlib.h>

#include "kestrel/kestrel.h"
#include "support/tiny_models.h"

namespace kestrel::testing {
namespace {

class SilentLogger : public ILogger {
 public:
  void log(Severity, const char*) noexcept override {}
};

// Builds and runs whatever the bytes hold; returns normally whatever happens.
void build_and_run(const std::string& bytes) {
  SilentLogger logger;
  Builder builder(logger);
  auto network = builder.create_network();
  OnnxParser parser(*network, logger);
  if (!parser.parse(bytes.data(), bytes.size(), "damaged.onnx")) return;
  BuilderConfig config;
  auto plan = builder.build_serialized_network(*network, config);
  if (!plan) {
    EXPECT_FALSE(plan.status().message().empty());
    return;
  }
  Runtime runtime(logger);
  auto engine = runtime.deserialize(plan->data(), plan->size());
  ASSERT_TRUE(engine.ok()) << "an engine the builder made must load: " << engine.status().message();
  auto context = engine.value()->create_execution_context();
  if (context) (void)context->infer();
}

TEST(Robustness, DamagedOnnxModelsNeverCrash) {
  const std::string valid = tiny_conv_model_bytes();
  build_and_run(valid);
  std::mt19937 rng(1234);
  for (int trial = 0; trial < 300; ++trial) {
    std::string bytes = valid;
    const int edits = 1 + int(rng() % 4);
    for (int e = 0; e < edits; ++e) bytes[rng() % bytes.size()] = char(rng() % 256);
    if (trial % 10 == 0) bytes.resize(rng() % bytes.size());
    build_and_run(bytes);
  }
}

std::vector<uint8_t> with_fixed_checksum(std::vector<uint8_t> bytes) {
  const uint32_t crc = uint32_t(crc32(crc32(0L, Z_NULL, 0), bytes.data(), uInt(bytes.size() - 4)));
  std::memcpy(bytes.data() + bytes.size() - 4, &crc, 4);
  return bytes;
}

TEST(Robustness, DamagedEnginesAreRefusedOrRunNeverCrash) {
  SilentLogger logger;
  Builder builder(logger);
  auto network = builder.create_network();
  OnnxParser parser(*network, logger);
  const std::string model = tiny_conv_model_bytes();
  ASSERT_TRUE(parser.parse(model.data(), model.size()).ok());
  auto plan = builder.build_serialized_network(*network, BuilderConfig());
  ASSERT_TRUE(plan.ok()) << plan.status().message();
  Runtime runtime(logger);
  std::mt19937 rng(99);
  int refused = 0;
  for (size_t trial = 0; trial < 400; ++trial) {
    std::vector<uint8_t> bytes = *plan;
    bytes[12 + rng() % (bytes.size() - 16)] ^= uint8_t(1u << (rng() % 8));  // past magic and version
    const bool fix_checksum = trial % 2 == 0;
    if (fix_checksum) bytes = with_fixed_checksum(bytes);
    auto engine = runtime.deserialize(bytes.data(), bytes.size(), "damaged.engine");
    if (!engine.ok()) {
      ++refused;
      EXPECT_NE(engine.status().message().find("damaged.engine"), std::string::npos);
      if (!fix_checksum) EXPECT_NE(engine.status().message().find("checksum"), std::string::npos);
      continue;
    }
    EXPECT_TRUE(fix_checksum) << "a flipped bit must not pass the checksum";
    auto context = engine.value()->create_execution_context();
    if (context) (void)context->infer();
  }
  EXPECT_GE(refused, 200);  // at least every damaged file whose checksum was not recomputed
}

}  // namespace
}  // namespace kestrel::testing
