// The calibration cache in TensorRT's text format: a round trip, a cache written the way
// TensorRT writes it (by hand here, with known bit patterns), and the refusals.
#include <bit>
#include <cstdint>

#include <gtest/gtest.h>

#include "kestrel/quant.h"

namespace kestrel {
namespace {

TEST(QuantCache, RoundTripKeepsEveryBit) {
  CalibrationTable table;
  table.algorithm = CalibrationAlgorithm::kMINMAX_CALIBRATION;
  table.scales = {{"x", 0.0123f}, {"/backbone/conv_1/Relu_output_0", 1.0f / 127}, {"tiny", 1e-30f}};
  const std::string text = format_calibration_cache(table);
  EXPECT_EQ(text.substr(0, text.find('\n')), "TRT-8601-MinMaxCalibration");
  EXPECT_NE(text.find("x: 3c4985f0\n"), std::string::npos) << text;  // 0.0123f's bits
  auto parsed = parse_calibration_cache(text, "t.cache");
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  EXPECT_EQ(parsed->algorithm, CalibrationAlgorithm::kMINMAX_CALIBRATION);
  EXPECT_TRUE(parsed->from_cache);
  ASSERT_EQ(parsed->scales.size(), 3u);
  for (const auto& [name, scale] : table.scales)
    EXPECT_EQ(std::bit_cast<uint32_t>(parsed->scales.at(name)), std::bit_cast<uint32_t>(scale)) << name;
}

TEST(QuantCache, ReadsATensorRTWrittenCache) {
  // As TensorRT 8.6 writes it: names with spaces, brackets and colons, and lower-case hex.
  const std::string text =
      "TRT-8601-EntropyCalibration2\n"
      "input: 3c010a14\n"
      "(Unnamed Layer* 3) [Convolution]_output: 3d7f5b2c\n"
      "/head/conv: 1: 3f800000\n";
  auto parsed = parse_calibration_cache(text, "trt.cache");
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  EXPECT_EQ(parsed->trt_version, 8601);
  EXPECT_EQ(parsed->algorithm, CalibrationAlgorithm::kENTROPY_CALIBRATION_2);
  EXPECT_EQ(std::bit_cast<uint32_t>(parsed->scales.at("input")), 0x3c010a14u);
  EXPECT_EQ(std::bit_cast<uint32_t>(parsed->scales.at("(Unnamed Layer* 3) [Convolution]_output")), 0x3d7f5b2cu);
  EXPECT_EQ(parsed->scales.at("/head/conv: 1"), 1.0f);
  EXPECT_NEAR(parsed->scales.at("input"), 0.0078759f, 1e-6);
}

TEST(QuantCache, ReportsUnusableScalesByTensorName) {
  const std::string text =
      "TRT-8601-EntropyCalibration2\n"
      "good: 3c010a14\n"
      "zero: 0\n"
      "infinite: 7f800000\n"
      "nan: 7fc00000\n";
  auto parsed = parse_calibration_cache(text, "bad.cache");
  ASSERT_FALSE(parsed.ok());
  const std::string m = parsed.status().message();
  EXPECT_NE(m.find("bad.cache"), std::string::npos) << m;
  for (const char* name : {"'zero'", "'infinite'", "'nan'"}) EXPECT_NE(m.find(name), std::string::npos) << m;
  EXPECT_EQ(m.find("'good'"), std::string::npos) << m;
}

TEST(QuantCache, RefusesMalformedText) {
  for (const std::string& text :
       {std::string(""), std::string("TRT-abc-EntropyCalibration2\n"), std::string("hello\n"),
        std::string("TRT-8601-Mystery\n"), std::string("TRT-8601-MinMaxCalibration\nx 3c010a14\n"),
        std::string("TRT-8601-MinMaxCalibration\nx: 3c01zz14\n"),
        std::string("TRT-8601-MinMaxCalibration\nx: 3c010a14\nx: 3c010a14\n")}) {
    auto parsed = parse_calibration_cache(text, "m.cache");
    EXPECT_FALSE(parsed.ok()) << text;
    if (!parsed.ok()) EXPECT_NE(parsed.status().message().find("m.cache"), std::string::npos);
  }
}

}  // namespace
}  // namespace kestrel
