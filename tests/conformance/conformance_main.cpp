// Runs the official ONNX node conformance cases through Kestrel's public API on the CPU: each
// case is its own test. Cases that use what Kestrel does not support (an operator, an opset, a
// data type) are skipped with that reason, and the run ends with counts per reason.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include "ir/op_registry.h"
#include "kestrel/kestrel.h"
#include "onnx/importer.h"
#include "onnx/tensor_proto.h"

namespace fs = std::filesystem;

namespace kestrel::conformance {
namespace {

// The tolerances of ONNX's own backend test runner (rtol 1e-3), with a slightly wider absolute
// floor for float32 results near zero.
constexpr double kRtol = 1e-3;
constexpr double kAtol = 1e-5;

std::map<std::string, int>& skip_reasons() {
  static std::map<std::string, int> reasons;
  return reasons;
}
int& passed_count() {
  static int n = 0;
  return n;
}

template <typename Proto>
bool read_proto(const fs::path& path, Proto* proto) {
  std::ifstream file(path, std::ios::binary);
  return file.good() && proto->ParseFromIstream(&file);
}

std::string type_problem(const onnx::TypeProto& type) {
  if (!type.has_tensor_type()) return "non-tensor inputs or outputs (sequence, map or optional)";
  try {
    onnx_import::to_data_type(type.tensor_type().elem_type(), "a tensor");
  } catch (const std::exception&) {
    const auto* desc = onnx::TensorProto::DataType_descriptor()->FindValueByNumber(type.tensor_type().elem_type());
    return fmt::format("data type {}", desc ? desc->name() : "unknown");
  }
  return "";
}

// Why Kestrel cannot run this case, or "" when it should.
std::string skip_reason(const onnx::ModelProto& model) {
  int opset = 0;
  for (const auto& entry : model.opset_import())
    if (entry.domain().empty() || entry.domain() == "ai.onnx") opset = int(entry.version());
  if (opset < onnx_import::kMinOpset || opset > onnx_import::kMaxOpset)
    return fmt::format("opset {} outside {}..{}", opset, onnx_import::kMinOpset, onnx_import::kMaxOpset);
  for (const auto& node : model.graph().node()) {
    const bool default_domain = node.domain().empty() || node.domain() == "ai.onnx";
    if (!default_domain || (node.op_type() != "Constant" && !ir::find_op_schema(node.op_type())))
      return fmt::format("unsupported operator {}", node.op_type());
    // An inference engine runs BatchNormalization and Dropout in inference mode only.
    for (const auto& a : node.attribute())
      if (a.name() == "training_mode" && a.i() != 0) return "training mode";
    if (node.op_type() == "Dropout" && node.input_size() > 2 && !node.input(2).empty()) return "training mode";
  }
  // The reference backend computes in float32; float16 is a storage type for Cast and the GPU.
  auto is_half = [](const onnx::ValueInfoProto& v) {
    return v.type().has_tensor_type() && v.type().tensor_type().elem_type() == onnx::TensorProto::FLOAT16;
  };
  const auto& nodes = model.graph().node();
  const bool only_casts = std::all_of(nodes.begin(), nodes.end(), [](const onnx::NodeProto& n) {
    return n.op_type() == "Cast" || n.op_type() == "CastLike";
  });
  if (!only_casts && (std::any_of(model.graph().input().begin(), model.graph().input().end(), is_half) ||
                      std::any_of(model.graph().output().begin(), model.graph().output().end(), is_half)))
    return "float16 arithmetic (the CPU reference computes in float32)";
  for (const auto& v : model.graph().input())
    if (auto problem = type_problem(v.type()); !problem.empty()) return problem;
  for (const auto& v : model.graph().output())
    if (auto problem = type_problem(v.type()); !problem.empty()) return problem;
  for (const auto& t : model.graph().initializer()) {
    onnx::TypeProto type;
    type.mutable_tensor_type()->set_elem_type(t.data_type());
    if (auto problem = type_problem(type); !problem.empty()) return problem;
  }
  return "";
}

struct CaseData {
  std::vector<onnx::TensorProto> inputs;
  std::vector<onnx::TensorProto> outputs;
};

CaseData read_case_data(const fs::path& dir) {
  CaseData data;
  for (int i = 0;; ++i) {
    onnx::TensorProto t;
    if (!read_proto(dir / fmt::format("input_{}.pb", i), &t)) break;
    data.inputs.push_back(std::move(t));
  }
  for (int i = 0;; ++i) {
    onnx::TensorProto t;
    if (!read_proto(dir / fmt::format("output_{}.pb", i), &t)) break;
    data.outputs.push_back(std::move(t));
  }
  return data;
}

// Kestrel plans static shapes, so shape-determining inputs (a Reshape's shape, a Slice's starts,
// a Resize's scales) must be known when the engine is built. This moves the case's inputs after
// `first` into the model as initializers, as a user does with shape tensors.
void embed_inputs(onnx::ModelProto& model, const std::vector<std::string>& names, const CaseData& data, size_t first) {
  auto* graph = model.mutable_graph();
  for (size_t i = first; i < names.size() && i < data.inputs.size(); ++i) {
    const auto& inits = graph->initializer();
    if (std::any_of(inits.begin(), inits.end(), [&](const onnx::TensorProto& t) { return t.name() == names[i]; }))
      continue;
    onnx::TensorProto init = data.inputs[i];
    init.set_name(names[i]);
    *graph->add_initializer() = init;
    for (int k = 0; k < graph->input_size(); ++k) {
      if (graph->input(k).name() != names[i]) continue;
      graph->mutable_input()->DeleteSubrange(k, 1);
      break;
    }
  }
}

class QuietLogger : public ILogger {
 public:
  void log(Severity, const char*) noexcept override {}
};

::testing::AssertionResult outputs_match(const std::string& name, const HostTensor& actual, const Tensor& expected) {
  if (actual.shape != expected.shape())
    return ::testing::AssertionFailure() << name << ": shape " << fmt::format("{}", fmt::join(actual.shape, ","))
                                         << " != expected " << fmt::format("{}", fmt::join(expected.shape(), ","));
  if (actual.dtype != expected.dtype())
    return ::testing::AssertionFailure() << name << ": dtype " << to_string(actual.dtype) << " != expected "
                                         << to_string(expected.dtype());
  const Tensor got = from_host_tensor(actual);
  for (int64_t i = 0; i < got.numel(); ++i) {
    const double a = got.double_at(i), e = expected.double_at(i);
    if (std::isnan(a) && std::isnan(e)) continue;
    if (std::isinf(e) && a == e) continue;
    if (!(std::fabs(a - e) <= kAtol + kRtol * std::fabs(e)))
      return ::testing::AssertionFailure() << name << "[" << i << "]: " << a << " != expected " << e;
  }
  return ::testing::AssertionSuccess();
}

Result<std::vector<uint8_t>> build(const onnx::ModelProto& model, const std::vector<std::string>& input_names,
                                   const CaseData& data, ILogger& logger) {
  std::string bytes;
  model.SerializeToString(&bytes);
  Builder builder(logger);
  auto network = builder.create_network();
  OnnxParser parser(*network, logger);
  if (Status s = parser.parse(bytes.data(), bytes.size(), "model.onnx"); !s) return s;
  BuilderConfig config;
  for (const TensorDesc& in : network->inputs())
    for (size_t i = 0; i < input_names.size() && i < data.inputs.size(); ++i)
      if (input_names[i] == in.name)
        config.set_input_shape(in.name, Dims(data.inputs[i].dims().begin(), data.inputs[i].dims().end()));
  return builder.build_serialized_network(*network, config);
}

void run_case(const fs::path& dir) {
  onnx::ModelProto model;
  ASSERT_TRUE(read_proto(dir / "model.onnx", &model)) << "cannot read " << dir / "model.onnx";
  if (const std::string reason = skip_reason(model); !reason.empty()) {
    ++skip_reasons()[reason];
    GTEST_SKIP() << reason;
  }
  const CaseData data = read_case_data(dir / "test_data_set_0");
  std::set<std::string> initializers;
  for (const auto& t : model.graph().initializer()) initializers.insert(t.name());
  std::vector<std::string> input_names;
  for (const auto& in : model.graph().input())
    if (!initializers.count(in.name())) input_names.push_back(in.name());

  QuietLogger logger;
  auto engine_bytes = build(model, input_names, data, logger);
  auto needs_constants = [&] {
    return !engine_bytes.ok() && engine_bytes.status().message().find("must be a constant") != std::string::npos;
  };
  // Shape inputs usually follow the data input; a generator (Range, a window) takes them first.
  for (size_t first : {size_t(1), size_t(0)}) {
    if (!needs_constants()) break;
    embed_inputs(model, input_names, data, first);
    engine_bytes = build(model, input_names, data, logger);
  }
  ASSERT_TRUE(engine_bytes.ok()) << engine_bytes.status().message();
  Runtime runtime(logger);
  auto engine = runtime.deserialize(engine_bytes->data(), engine_bytes->size());
  ASSERT_TRUE(engine.ok()) << engine.status().message();
  auto context = engine.value()->create_execution_context();
  ASSERT_NE(context, nullptr);

  std::vector<HostTensor> inputs;
  for (size_t i = 0; i < input_names.size() && i < data.inputs.size(); ++i)
    inputs.push_back(to_host_tensor(onnx_import::tensor_from_proto(data.inputs[i])));
  std::vector<HostTensor> outputs;
  for (const TensorDesc& out : engine.value()->outputs()) {
    HostTensor t{out.dtype, out.shape, {}};
    t.bytes.resize(size_t(t.numel()) * element_size(t.dtype));
    outputs.push_back(std::move(t));
  }
  for (const TensorDesc& in : engine.value()->inputs()) {
    const auto it = std::find(input_names.begin(), input_names.end(), in.name);
    ASSERT_NE(it, input_names.end()) << "no test data for input " << in.name;
    ASSERT_TRUE(context->set_tensor_address(in.name, inputs[size_t(it - input_names.begin())].bytes.data()).ok());
  }
  for (size_t i = 0; i < outputs.size(); ++i)
    ASSERT_TRUE(context->set_tensor_address(engine.value()->outputs()[i].name, outputs[i].bytes.data()).ok());
  const Status ran = context->infer();
  ASSERT_TRUE(ran.ok()) << ran.message();

  ASSERT_EQ(outputs.size(), data.outputs.size());
  for (size_t i = 0; i < outputs.size(); ++i)
    EXPECT_TRUE(outputs_match(engine.value()->outputs()[i].name, outputs[i], onnx_import::tensor_from_proto(data.outputs[i])));
  if (!::testing::Test::HasFailure()) ++passed_count();
}

class SummaryPrinter : public ::testing::EmptyTestEventListener {
  void OnTestProgramEnd(const ::testing::UnitTest& unit) override {
    int skipped = 0;
    for (const auto& [reason, n] : skip_reasons()) skipped += n;
    fmt::print("ONNX conformance: {} cases, {} ran, {} passed, {} failed, {} skipped\n", unit.total_test_count(),
               unit.total_test_count() - skipped, passed_count(), unit.failed_test_count(), skipped);
    for (const auto& [reason, n] : skip_reasons()) fmt::print("  skipped {:4} {}\n", n, reason);
  }
};

}  // namespace
}  // namespace kestrel::conformance

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  const char* env = std::getenv("KESTREL_ONNX_NODE_TESTS_DIR");
  const fs::path root = env ? env : KESTREL_ONNX_NODE_TESTS_DIR;
  std::error_code ec;
  if (!fs::is_directory(root, ec)) {
    fmt::print(stderr, "no ONNX node test cases in {}: build the onnx_node_tests_data target\n", root.string());
    return 1;
  }
  std::vector<fs::path> cases;
  for (const auto& entry : fs::directory_iterator(root))
    if (fs::exists(entry.path() / "model.onnx")) cases.push_back(entry.path());
  std::sort(cases.begin(), cases.end());
  for (const fs::path& dir : cases) {
    ::testing::RegisterTest("OnnxNode", dir.filename().string().c_str(), nullptr, nullptr, __FILE__, __LINE__,
                            [dir]() -> ::testing::Test* {
                              struct Case : ::testing::Test {
                                explicit Case(fs::path d) : dir(std::move(d)) {}
                                void TestBody() override { kestrel::conformance::run_case(dir); }
                                fs::path dir;
                              };
                              return new Case(dir);
                            });
  }
  ::testing::UnitTest::GetInstance()->listeners().Append(new kestrel::conformance::SummaryPrinter);
  return RUN_ALL_TESTS();
}
