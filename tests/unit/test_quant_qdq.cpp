// The QDQ pipeline end to end on a small conv net built here: calibration through the callback
// calibrator, the QDQ rewrite (what it inserts, int8 weights with per-channel scales), import
// of the result, an engine that keeps the weights int8, and outputs close to FP32.
#include <cmath>
#include <filesystem>
#include <cstring>
#include <random>
#include <unistd.h>

#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include "core/file_io.h"
#include "kestrel/quant.h"

namespace kestrel {
namespace {

class QuietLogger : public ILogger {
 public:
  void log(Severity, const char*) noexcept override {}
};

void add_float_init(onnx::GraphProto& g, const std::string& name, std::vector<int64_t> dims, std::mt19937& rng,
                    float spread) {
  onnx::TensorProto* t = g.add_initializer();
  t->set_name(name);
  t->set_data_type(onnx::TensorProto::FLOAT);
  int64_t n = 1;
  for (int64_t d : dims) {
    t->add_dims(d);
    n *= d;
  }
  std::normal_distribution<float> dist(0.f, spread);
  for (int64_t i = 0; i < n; ++i) t->add_float_data(dist(rng));
}

void add_node(onnx::GraphProto& g, const std::string& op, const std::string& name, std::vector<std::string> in,
              std::string out, std::vector<int64_t> pads = {}) {
  onnx::NodeProto* n = g.add_node();
  n->set_op_type(op);
  n->set_name(name);
  for (auto& i : in) n->add_input(i);
  n->add_output(out);
  if (!pads.empty()) {
    auto* a = n->add_attribute();
    a->set_name("pads");
    a->set_type(onnx::AttributeProto::INTS);
    for (int64_t p : pads) a->add_ints(p);
  }
}

void add_value_info(google::protobuf::RepeatedPtrField<onnx::ValueInfoProto>* list, const std::string& name,
                    std::vector<int64_t> dims) {
  auto* v = list->Add();
  v->set_name(name);
  auto* tt = v->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(onnx::TensorProto::FLOAT);
  for (int64_t d : dims) tt->mutable_shape()->add_dim()->set_dim_value(d);
}

// x [1,3,16,16] -> conv1 3x3 (3->16) -> Relu -> conv2 3x3 (16->16) -> Relu -> conv3 1x1 (16->4)
// -> Softmax over channels -> y
std::string small_conv_net() {
  onnx::ModelProto m;
  m.set_ir_version(8);
  m.add_opset_import()->set_version(17);
  onnx::GraphProto& g = *m.mutable_graph();
  g.set_name("small");
  std::mt19937 rng(3);
  add_float_init(g, "w1", {16, 3, 3, 3}, rng, 0.3f);
  add_float_init(g, "b1", {16}, rng, 0.1f);
  add_float_init(g, "w2", {16, 16, 3, 3}, rng, 0.1f);
  add_float_init(g, "w3", {4, 16, 1, 1}, rng, 0.3f);
  add_node(g, "Conv", "conv1", {"x", "w1", "b1"}, "c1", {1, 1, 1, 1});
  add_node(g, "Relu", "relu1", {"c1"}, "r1");
  add_node(g, "Conv", "conv2", {"r1", "w2"}, "c2", {1, 1, 1, 1});
  add_node(g, "Relu", "relu2", {"c2"}, "r2");
  add_node(g, "Conv", "conv3", {"r2", "w3"}, "c3");
  add_node(g, "Softmax", "softmax", {"c3"}, "y");
  g.mutable_node(5)->add_attribute()->set_name("axis");
  g.mutable_node(5)->mutable_attribute(0)->set_type(onnx::AttributeProto::INT);
  g.mutable_node(5)->mutable_attribute(0)->set_i(1);
  add_value_info(g.mutable_input(), "x", {1, 3, 16, 16});
  add_value_info(g.mutable_output(), "y", {1, 4, 16, 16});
  return m.SerializeAsString();
}

HostTensor random_input(uint32_t seed) {
  HostTensor t;
  t.dtype = DataType::kFLOAT;
  t.shape = {1, 3, 16, 16};
  t.bytes.resize(size_t(t.numel()) * 4);
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(0.f, 1.f);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = dist(rng);
  return t;
}

class QuantQdq : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("kestrel_quant_" + std::to_string(::getpid()) + "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
    model_ = (dir_ / "small.onnx").string();
    const std::string bytes = small_conv_net();
    write_file_atomic(model_, bytes.data(), bytes.size());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  CalibrationTable calibrated(CalibrationAlgorithm algorithm, const std::string& cache = "") {
    int served = 0;
    CallbackCalibrator calibrator(algorithm, [&](NamedTensors& batch) {
      if (served == 16) return false;
      batch = {{"x", random_input(uint32_t(100 + served++))}};
      return true;
    }, cache);
    auto table = calibrate(model_, calibrator, logger_);
    EXPECT_TRUE(table.ok()) << table.status().message();
    return table.ok() ? table.value() : CalibrationTable{};
  }

  NamedTensors run(const std::vector<uint8_t>& model_bytes, const HostTensor& x, std::vector<uint8_t>* engine_out = nullptr) {
    Builder builder(logger_);
    auto network = builder.create_network();
    OnnxParser parser(*network, logger_);
    EXPECT_TRUE(parser.parse(model_bytes.data(), model_bytes.size(), "m.onnx").ok());
    BuilderConfig config;
    auto plan = builder.build_serialized_network(*network, config);
    EXPECT_TRUE(plan.ok()) << plan.status().message();
    if (engine_out) *engine_out = *plan;
    Runtime runtime(logger_);
    auto engine = runtime.deserialize(plan->data(), plan->size());
    auto context = (*engine)->create_execution_context();
    std::vector<float> y(4 * 16 * 16);
    EXPECT_TRUE(context->set_tensor_address("x", const_cast<uint8_t*>(x.bytes.data())).ok());
    EXPECT_TRUE(context->set_tensor_address("y", y.data()).ok());
    EXPECT_TRUE(context->infer().ok());
    HostTensor out;
    out.shape = {1, 4, 16, 16};
    out.bytes.resize(y.size() * 4);
    std::memcpy(out.bytes.data(), y.data(), out.bytes.size());
    return {{"y", out}};
  }

  std::filesystem::path dir_;
  std::string model_;
  QuietLogger logger_;
};

TEST_F(QuantQdq, CalibrationObservesTheInputOfEveryConv) {
  for (auto algo : {CalibrationAlgorithm::kENTROPY_CALIBRATION_2, CalibrationAlgorithm::kMINMAX_CALIBRATION,
                    CalibrationAlgorithm::kPERCENTILE}) {
    const CalibrationTable t = calibrated(algo);
    EXPECT_EQ(t.batches, 16);
    ASSERT_EQ(t.scales.size(), 3u) << to_string(algo);
    // The input is uniform in [0, 1): min-max gives (almost) 1/127, the others no more than that.
    EXPECT_GT(t.scales.at("x"), 0.9f / 127);
    EXPECT_LE(t.scales.at("x"), 1.0f / 127 + 1e-7f);
    for (const char* name : {"r1", "r2"}) EXPECT_GT(t.scales.at(name), 0.f);
  }
}

TEST_F(QuantQdq, CachePresentSkipsCalibration) {
  const std::string cache = (dir_ / "calib.cache").string();
  const CalibrationTable first = calibrated(CalibrationAlgorithm::kENTROPY_CALIBRATION_2, cache);
  ASSERT_TRUE(std::filesystem::exists(cache));
  // A calibrator with no data at all: only the cache can satisfy it.
  CallbackCalibrator cached(CalibrationAlgorithm::kENTROPY_CALIBRATION_2, [](NamedTensors&) { return false; }, cache);
  auto second = calibrate(model_, cached, logger_);
  ASSERT_TRUE(second.ok()) << second.status().message();
  EXPECT_TRUE(second->from_cache);
  EXPECT_EQ(second->scales, first.scales);
}

TEST_F(QuantQdq, RewriteInsertsQdqPairsAndInt8WeightsPerChannel) {
  const CalibrationTable table = calibrated(CalibrationAlgorithm::kMINMAX_CALIBRATION);
  auto bytes = quantize_to_qdq(model_, table, QuantizeOptions{}, logger_);
  ASSERT_TRUE(bytes.ok()) << bytes.status().message();
  onnx::ModelProto m;
  ASSERT_TRUE(m.ParseFromArray(bytes->data(), int(bytes->size())));
  int q = 0, dq = 0;
  for (const auto& n : m.graph().node()) {
    q += n.op_type() == "QuantizeLinear";
    dq += n.op_type() == "DequantizeLinear";
  }
  EXPECT_EQ(q, 3);       // x, r1, r2
  EXPECT_EQ(dq, 3 + 3);  // and the three weights
  bool saw_w2 = false;
  for (const auto& init : m.graph().initializer()) {
    EXPECT_NE(init.name(), "w2") << "the float weight must be gone";
    if (init.name() == "w2_quantized") {
      saw_w2 = true;
      EXPECT_EQ(init.data_type(), onnx::TensorProto::INT8);
      EXPECT_EQ(init.raw_data().size(), size_t(16 * 16 * 9));
    }
    if (init.name() == "w2_scale") {
      ASSERT_EQ(init.dims_size(), 1);
      EXPECT_EQ(init.dims(0), 16);  // one scale per output channel
    }
  }
  EXPECT_TRUE(saw_w2);
  // The bias stays float.
  bool bias_float = false;
  for (const auto& init : m.graph().initializer()) bias_float |= init.name() == "b1" && init.data_type() == onnx::TensorProto::FLOAT;
  EXPECT_TRUE(bias_float);
}

TEST_F(QuantQdq, QdqModelRunsCloseToFp32AndKeepsWeightsInt8InTheEngine) {
  const CalibrationTable table = calibrated(CalibrationAlgorithm::kENTROPY_CALIBRATION_2);
  auto qdq = quantize_to_qdq(model_, table, QuantizeOptions{}, logger_);
  ASSERT_TRUE(qdq.ok()) << qdq.status().message();
  const std::vector<uint8_t> fp32_bytes = read_file(model_);
  std::vector<uint8_t> fp32_engine, int8_engine;
  for (uint32_t seed : {7u, 8u, 9u}) {
    const HostTensor x = random_input(seed);
    const NamedTensors a = run(fp32_bytes, x, &fp32_engine);
    const NamedTensors b = run(*qdq, x, &int8_engine);
    double ab = 0, aa = 0, bb = 0, max_err = 0;
    int same_class = 0;
    const float* pa = a[0].second.data<float>();
    const float* pb = b[0].second.data<float>();
    for (int64_t i = 0; i < 4 * 16 * 16; ++i) {
      ab += double(pa[i]) * pb[i];
      aa += double(pa[i]) * pa[i];
      bb += double(pb[i]) * pb[i];
      max_err = std::max(max_err, double(std::fabs(pa[i] - pb[i])));
    }
    // Per pixel, the most probable of the 4 classes (softmax over channels) should not move.
    for (int64_t p = 0; p < 16 * 16; ++p) {
      int best_a = 0, best_b = 0;
      for (int c = 1; c < 4; ++c) {
        if (pa[c * 256 + p] > pa[best_a * 256 + p]) best_a = c;
        if (pb[c * 256 + p] > pb[best_b * 256 + p]) best_b = c;
      }
      same_class += best_a == best_b;
    }
    EXPECT_GT(ab / std::sqrt(aa * bb), 0.999) << "seed " << seed;
    EXPECT_LT(max_err, 0.1) << "seed " << seed;  // probabilities: a sharp softmax magnifies logit steps
    // Random weights leave some pixels with near-ties between classes: >= 90% must keep theirs.
    EXPECT_GE(same_class, 231) << "seed " << seed;
    EXPECT_GT(max_err, 0.0) << "the QDQ model must actually quantize";
  }
  // The engine keeps int8 weights: the three convolutions run as int8 layers (kestrel.QConv,
  // src/passes/fuse_qdq_conv.cpp) that read the int8 weights themselves.
  Runtime runtime(logger_);
  auto engine = runtime.deserialize(int8_engine.data(), int8_engine.size());
  ASSERT_TRUE(engine.ok());
  int int8_layers = 0;
  for (const LayerInfo& l : (*engine)->layers()) int8_layers += l.op_type == "QConv" && l.precision == "int8";
  EXPECT_EQ(int8_layers, 3);
  EXPECT_LT(int8_engine.size(), fp32_engine.size());
}

TEST_F(QuantQdq, Int8EngineMatchesTheReferenceBackend) {
  // The same QDQ model as an engine of the fast kernels (int8 convolutions) and as one of the
  // reference kernels only (KESTREL_CPU_DISABLE=all: the QDQ nodes and float convolutions as
  // written): within a few steps of the last requantization, mapped through the softmax.
  const CalibrationTable table = calibrated(CalibrationAlgorithm::kMINMAX_CALIBRATION);
  auto qdq = quantize_to_qdq(model_, table, QuantizeOptions{}, logger_);
  ASSERT_TRUE(qdq.ok()) << qdq.status().message();
  std::vector<uint8_t> fast_engine;
  for (uint32_t seed : {11u, 12u}) {
    const HostTensor x = random_input(seed);
    const NamedTensors fast = run(*qdq, x, &fast_engine);
    setenv("KESTREL_CPU_DISABLE", "all", 1);
    const NamedTensors reference = run(*qdq, x);
    unsetenv("KESTREL_CPU_DISABLE");
    const float* a = fast[0].second.data<float>();
    const float* b = reference[0].second.data<float>();
    double max_err = 0;
    for (int64_t i = 0; i < 4 * 16 * 16; ++i) max_err = std::max(max_err, double(std::fabs(a[i] - b[i])));
    EXPECT_LT(max_err, 0.02) << "seed " << seed;
  }
  Runtime runtime(logger_);
  auto engine = runtime.deserialize(fast_engine.data(), fast_engine.size());
  ASSERT_TRUE(engine.ok());
  int qconv = 0;
  for (const LayerInfo& l : (*engine)->layers()) qconv += l.kernel == "cpu.onednn.qconv";
  EXPECT_EQ(qconv, 3);
}

TEST_F(QuantQdq, LayerPrecisionOverridesAndTheirErrors) {
  const CalibrationTable table = calibrated(CalibrationAlgorithm::kMINMAX_CALIBRATION);
  QuantizeOptions options;
  options.layer_precision["conv2"] = "fp32";
  auto layers = int8_layers(model_, table, options);
  ASSERT_TRUE(layers.ok()) << layers.status().message();
  EXPECT_EQ(*layers, (std::vector<std::string>{"conv1", "conv3"}));
  options.layer_precision = {{"softmax", "int8"}};
  auto refused = int8_layers(model_, table, options);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("softmax"), std::string::npos);
  options.layer_precision = {{"no_such_layer", "fp32"}};
  auto unknown = int8_layers(model_, table, options);
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("no_such_layer"), std::string::npos);
}

TEST_F(QuantQdq, MissingScaleKeepsTheLayerInFloat) {
  CalibrationTable table = calibrated(CalibrationAlgorithm::kMINMAX_CALIBRATION);
  table.scales.erase("r1");
  auto layers = int8_layers(model_, table, QuantizeOptions{});
  ASSERT_TRUE(layers.ok());
  EXPECT_EQ(*layers, (std::vector<std::string>{"conv1", "conv3"}));
}

}  // namespace
}  // namespace kestrel
