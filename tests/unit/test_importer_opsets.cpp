// The importer's opset range: models at opsets 18 to 21 that use what those opsets changed
// (axes as a ReduceMean input, Split's num_outputs, Pad's axes input, GroupNormalization's two
// meanings of scale, lowered to kestrel.GroupNorm on the CPU) import, build for the CPU and give
// the values worked out here; opset 22 is refused with a message naming it.
#include <cmath>
#include <string>
#include <type_traits>
#include <vector>

#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include "core/error.h"
#include "kestrel/kestrel.h"
#include "onnx/importer.h"

namespace kestrel::testing {
namespace {

constexpr int64_t kChannels = 4, kGroups = 2, kHeight = 2, kWidth = 5;

class CollectingLogger : public ILogger {
 public:
  void log(Severity, const char* message) noexcept override { messages += std::string(message) + "\n"; }
  std::string messages;
};

// An int64 or float32 1-D initializer.
template <typename T>
void add_initializer(onnx::GraphProto& g, const std::string& name, const std::vector<T>& values) {
  onnx::TensorProto* t = g.add_initializer();
  t->set_name(name);
  t->set_data_type(std::is_same_v<T, float> ? onnx::TensorProto::FLOAT : onnx::TensorProto::INT64);
  t->add_dims(int64_t(values.size()));
  for (T v : values) {
    if constexpr (std::is_same_v<T, float>)
      t->add_float_data(v);
    else
      t->add_int64_data(v);
  }
}

onnx::NodeProto* add_node(onnx::GraphProto& g, const std::string& op, std::vector<std::string> inputs,
                          std::vector<std::string> outputs) {
  onnx::NodeProto* n = g.add_node();
  n->set_op_type(op);
  n->set_name(op);
  for (const auto& in : inputs) n->add_input(in);
  for (const auto& out : outputs) n->add_output(out);
  return n;
}

void add_int_attribute(onnx::NodeProto* n, const std::string& name, int64_t value) {
  onnx::AttributeProto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INT);
  a->set_i(value);
}

void add_float_io(google::protobuf::RepeatedPtrField<onnx::ValueInfoProto>* list, const std::string& name,
                  const std::vector<int64_t>& dims) {
  onnx::ValueInfoProto* v = list->Add();
  v->set_name(name);
  auto* type = v->mutable_type()->mutable_tensor_type();
  type->set_elem_type(onnx::TensorProto::FLOAT);
  for (int64_t d : dims) type->mutable_shape()->add_dim()->set_dim_value(d);
}

// The per-group scale and bias of the GroupNormalization below; opset 21 repeats them per channel.
const std::vector<float> kGroupScale{2.f, -0.5f}, kGroupBias{1.f, 3.f};

std::vector<float> per_opset(const std::vector<float>& per_group, int opset) {
  if (opset < 21) return per_group;
  std::vector<float> per_channel;
  for (int64_t c = 0; c < kChannels; ++c) per_channel.push_back(per_group[size_t(c / (kChannels / kGroups))]);
  return per_channel;
}

// x [1, 4, 2, 5] -> ReduceMean over axes (2, 3) given as an input -> mean [1, 4, 1, 1]
//                -> Split along the width into num_outputs=2 -> left [1, 4, 2, 3], right [1, 4, 2, 2]
//                -> Pad 1 and 2 on axis -1 given as an input -> padded [1, 4, 2, 8]
//                -> GroupNormalization with 2 groups -> normalized [1, 4, 2, 5]
std::string opset_model_bytes(int opset) {
  onnx::ModelProto model;
  model.set_ir_version(opset >= 21 ? 10 : 8);
  model.add_opset_import()->set_version(opset);
  onnx::GraphProto& g = *model.mutable_graph();
  g.set_name("opset" + std::to_string(opset));
  add_initializer(g, "reduce_axes", std::vector<int64_t>{2, 3});
  add_initializer(g, "pads", std::vector<int64_t>{1, 2});
  add_initializer(g, "pad_axes", std::vector<int64_t>{-1});
  add_initializer(g, "gn_scale", per_opset(kGroupScale, opset));
  add_initializer(g, "gn_bias", per_opset(kGroupBias, opset));
  add_node(g, "ReduceMean", {"x", "reduce_axes"}, {"mean"});
  onnx::NodeProto* split = add_node(g, "Split", {"x"}, {"left", "right"});
  add_int_attribute(split, "axis", 3);
  add_int_attribute(split, "num_outputs", 2);
  add_node(g, "Pad", {"x", "pads", "", "pad_axes"}, {"padded"});
  add_int_attribute(add_node(g, "GroupNormalization", {"x", "gn_scale", "gn_bias"}, {"normalized"}), "num_groups",
                    kGroups);
  add_float_io(g.mutable_input(), "x", {1, kChannels, kHeight, kWidth});
  add_float_io(g.mutable_output(), "mean", {1, kChannels, 1, 1});
  add_float_io(g.mutable_output(), "left", {1, kChannels, kHeight, 3});
  add_float_io(g.mutable_output(), "right", {1, kChannels, kHeight, 2});
  add_float_io(g.mutable_output(), "padded", {1, kChannels, kHeight, kWidth + 3});
  add_float_io(g.mutable_output(), "normalized", {1, kChannels, kHeight, kWidth});
  return model.SerializeAsString();
}

// x[c][h][w] = (c + 1) * (h * 5 + w) / 10 - c: every channel different, no two groups alike.
std::vector<float> input_values() {
  std::vector<float> x;
  for (int64_t c = 0; c < kChannels; ++c)
    for (int64_t i = 0; i < kHeight * kWidth; ++i) x.push_back(float(c + 1) * float(i) / 10.f - float(c));
  return x;
}

struct Outputs {
  std::vector<float> mean, left, right, padded, normalized;
};

Outputs build_and_run(const std::string& bytes, int opset) {
  CollectingLogger logger;
  Builder builder(logger);
  auto network = builder.create_network();
  OnnxParser parser(*network, logger);
  const std::string name = "opset" + std::to_string(opset) + ".onnx";
  EXPECT_TRUE(parser.parse(bytes.data(), bytes.size(), name)) << logger.messages;
  BuilderConfig config;
  config.set_device(DeviceType::kCPU);
  auto plan = builder.build_serialized_network(*network, config);
  EXPECT_TRUE(plan.ok()) << logger.messages;
  Outputs out;
  if (!plan.ok()) return out;
  Runtime runtime(logger);
  auto engine = runtime.deserialize(plan->data(), plan->size());
  EXPECT_TRUE(engine.ok()) << logger.messages;
  if (!engine.ok()) return out;
  // On the CPU GroupNormalization (constant scale and bias) runs as kestrel.GroupNorm, whose
  // layers report the op without the domain.
  bool lowered = false;
  std::string layers;
  for (const LayerInfo& layer : engine.value()->layers()) {
    lowered |= layer.op_type == "GroupNorm" && layer.fused_from == std::vector<std::string>{"GroupNormalization"};
    layers += layer.op_type + " (" + layer.kernel + ") ";
  }
  EXPECT_TRUE(lowered) << "opset " << opset << ": " << layers;
  auto context = engine.value()->create_execution_context();
  std::vector<float> x = input_values();
  out.mean.resize(kChannels);
  out.left.resize(kChannels * kHeight * 3);
  out.right.resize(kChannels * kHeight * 2);
  out.padded.resize(kChannels * kHeight * (kWidth + 3));
  out.normalized.resize(x.size());
  EXPECT_TRUE(context->set_tensor_address("x", x.data()).ok());
  EXPECT_TRUE(context->set_tensor_address("mean", out.mean.data()).ok());
  EXPECT_TRUE(context->set_tensor_address("left", out.left.data()).ok());
  EXPECT_TRUE(context->set_tensor_address("right", out.right.data()).ok());
  EXPECT_TRUE(context->set_tensor_address("padded", out.padded.data()).ok());
  EXPECT_TRUE(context->set_tensor_address("normalized", out.normalized.data()).ok());
  EXPECT_TRUE(context->infer().ok()) << logger.messages;
  return out;
}

// The expected outputs, by loops over the input written out here.
Outputs expected_outputs() {
  const std::vector<float> x = input_values();
  auto at = [&](int64_t c, int64_t h, int64_t w) { return x[size_t((c * kHeight + h) * kWidth + w)]; };
  Outputs e;
  for (int64_t c = 0; c < kChannels; ++c) {
    double sum = 0;
    for (int64_t h = 0; h < kHeight; ++h)
      for (int64_t w = 0; w < kWidth; ++w) sum += at(c, h, w);
    e.mean.push_back(float(sum / double(kHeight * kWidth)));
    for (int64_t h = 0; h < kHeight; ++h) {
      for (int64_t w = 0; w < kWidth; ++w) (w < 3 ? e.left : e.right).push_back(at(c, h, w));
      e.padded.push_back(0.f);
      for (int64_t w = 0; w < kWidth; ++w) e.padded.push_back(at(c, h, w));
      e.padded.insert(e.padded.end(), {0.f, 0.f});
    }
  }
  const int64_t group_size = kChannels / kGroups * kHeight * kWidth;
  for (int64_t g = 0; g < kGroups; ++g) {
    double mean = 0, variance = 0;
    for (int64_t i = 0; i < group_size; ++i) mean += x[size_t(g * group_size + i)];
    mean /= double(group_size);
    for (int64_t i = 0; i < group_size; ++i) variance += std::pow(x[size_t(g * group_size + i)] - mean, 2);
    variance /= double(group_size);
    for (int64_t i = 0; i < group_size; ++i)
      e.normalized.push_back(float((x[size_t(g * group_size + i)] - mean) / std::sqrt(variance + 1e-5) *
                                       kGroupScale[size_t(g)] +
                                   kGroupBias[size_t(g)]));
  }
  return e;
}

void expect_near(const std::vector<float>& actual, const std::vector<float>& expected, const char* what, int opset) {
  ASSERT_EQ(actual.size(), expected.size()) << what << " at opset " << opset;
  for (size_t i = 0; i < actual.size(); ++i)
    EXPECT_NEAR(actual[i], expected[i], 1e-4) << what << "[" << i << "] at opset " << opset;
}

TEST(ImporterOpsets, Opsets18To21ImportBuildAndRunTheirChangedOperators) {
  const Outputs expected = expected_outputs();
  for (int opset = 18; opset <= 21; ++opset) {
    const Outputs out = build_and_run(opset_model_bytes(opset), opset);
    expect_near(out.mean, expected.mean, "mean", opset);
    expect_near(out.left, expected.left, "left", opset);
    expect_near(out.right, expected.right, "right", opset);
    expect_near(out.padded, expected.padded, "padded", opset);
    expect_near(out.normalized, expected.normalized, "normalized", opset);
  }
}

TEST(ImporterOpsets, RangeIs11To21) {
  EXPECT_EQ(onnx_import::kMinOpset, 11);
  EXPECT_EQ(onnx_import::kMaxOpset, 21);
}

TEST(ImporterOpsets, Opset22IsRefusedNamingTheOpsetAndTheRange) {
  const std::string bytes = opset_model_bytes(22);
  try {
    onnx_import::import_model(bytes.data(), bytes.size(), "new.onnx");
    FAIL() << "an opset-22 model must be refused";
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("new.onnx: opset 22 is newer than the supported 11..21"), std::string::npos) << message;
  }
  // Through the public API the reason reaches the logger.
  CollectingLogger logger;
  Builder builder(logger);
  auto network = builder.create_network();
  OnnxParser parser(*network, logger);
  EXPECT_FALSE(parser.parse(bytes.data(), bytes.size(), "new.onnx"));
  EXPECT_NE(logger.messages.find("opset 22"), std::string::npos) << logger.messages;
}

TEST(ImporterOpsets, Opset17ModelUsingOpset18InputsIsRefusedByNode) {
  // The same graph declared as opset 17: axes and pads inputs, num_outputs and the op itself are all refused.
  const std::string bytes = opset_model_bytes(17);
  CollectingLogger logger;
  Builder builder(logger);
  auto network = builder.create_network();
  OnnxParser parser(*network, logger);
  ASSERT_TRUE(parser.parse(bytes.data(), bytes.size(), "old.onnx")) << logger.messages;
  BuilderConfig config;
  EXPECT_FALSE(builder.build_serialized_network(*network, config).ok());
  EXPECT_NE(logger.messages.find("(opset 17)"), std::string::npos) << logger.messages;
}

}  // namespace
}  // namespace kestrel::testing
