// The CUDA backend: registration, the build-time compile step (fusion, precision, kernel choice,
// device facts), the load-time compatibility check, and the executor (weights uploaded once, one
// activation arena from the engine's memory plan, launches on the caller's stream, replayed from
// a CUDA graph).
#include <cublasLt.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <map>

#include "backend/cuda/cuda_backend.h"
#include "backend/cuda/cuda_ops.h"
#include "backend/cuda/kernel_timing.h"
#include "backend/cuda/lowering.h"
#include "passes/pass.h"
#include "passes/rewrite_utils.h"
#include "core/fp16.h"
#include "engine/backend.h"
#include "engine/memory_plan.h"

namespace kestrel::cuda {

constexpr const char* kFactComputeCapability = "cuda.compute_capability";
constexpr const char* kFactDeviceName = "cuda.device_name";
constexpr const char* kFactRuntime = "cuda.runtime_version";
constexpr const char* kFactCublas = "cublas.version";
constexpr const char* kFactFusion = "cuda.fusion";  // "on" or "off" (KESTREL_CUDA_NO_FUSION at build time)
constexpr const char* kFactGemmEpilogue = "cuda.fusion.gemm_epilogue";  // KESTREL_CUDA_NO_GEMM_EPILOGUE
constexpr const char* kFactAttention = "cuda.fusion.separable_attention";  // KESTREL_CUDA_NO_ATTENTION_FUSION
constexpr const char* kFactSinglePassNorm = "cuda.fusion.single_pass_norm";  // KESTREL_CUDA_NO_SINGLE_PASS_NORM
constexpr const char* kFactCopyChains = "cuda.fusion.copy_chains";  // KESTREL_CUDA_NO_COPY_FOLDING
constexpr const char* kFactNormInGemm = "cuda.fusion.norm_in_gemm";  // KESTREL_CUDA_NO_NORM_IN_GEMM
constexpr const char* kFactIntegerConvs = "cuda.int8.integer_convs";  // KESTREL_CUDA_INT8_KERNELS=1
// With gemm_epilogue / single_pass_norm "tuned": the layers that build-time timing gave the fused
// kernel, one name per line.
constexpr const char* kFactGemmEpilogueLayers = "cuda.fusion.gemm_epilogue.layers";
constexpr const char* kFactSinglePassNormLayers = "cuda.fusion.single_pass_norm.layers";
constexpr const char* kFactKernelTiming = "cuda.kernel_timing";  // what the timing did, for inspect

namespace {

std::string version_string(int v) {  // CUDA encodes 13.0.x as 13000 + 10*minor... major*1000 + minor*10
  return fmt::format("{}.{}", v / 1000, (v % 1000) / 10);
}

int major_of(const std::string& version) { return std::atoi(version.c_str()); }

}  // namespace

DeviceFacts current_device_facts() {
  DeviceFacts f;
  int device = 0;
  KESTREL_CUDA_CHECK(cudaGetDevice(&device));
  cudaDeviceProp prop{};
  KESTREL_CUDA_CHECK(cudaGetDeviceProperties(&prop, device));
  f.compute_capability = fmt::format("{}.{}", prop.major, prop.minor);
  f.device_name = prop.name;
  int runtime = 0;
  KESTREL_CUDA_CHECK(cudaRuntimeGetVersion(&runtime));
  f.runtime_version = version_string(runtime);
  int major = 0, minor = 0, patch = 0;
  cublasGetProperty(MAJOR_VERSION, &major);
  cublasGetProperty(MINOR_VERSION, &minor);
  cublasGetProperty(PATCH_LEVEL, &patch);
  f.cublas_version = fmt::format("{}.{}.{}", major, minor, patch);
  return f;
}

std::string unavailable_reason() {
  int count = 0;
  const cudaError_t status = cudaGetDeviceCount(&count);
  if (status != cudaSuccess) {
    cudaGetLastError();  // clear the sticky error state
    return fmt::format("no CUDA device found ({})", cudaGetErrorString(status));
  }
  if (count == 0) return "no CUDA device found";
  return "";
}

// ------------------------------------------------------------------------------------------------
// Build time

namespace {

bool is_float_type(DataType t) { return t == DataType::kFLOAT || t == DataType::kHALF; }

// Conv -> [Add(residual)] -> [Relu] become one Conv whose epilogue adds the residual and applies
// the activation. Returns the number of nodes fused away.
int fuse_conv_epilogues(ir::Graph& graph) {
  int fused = 0;
  std::vector<bool> removed(graph.nodes.size(), false);
  bool changed = true;
  while (changed) {
    changed = false;
    const std::vector<int> producer = graph.producers();
    const std::vector<int> uses = graph.use_counts();
    // consumers of each value (among live nodes)
    std::vector<std::vector<int>> consumers(graph.values.size());
    for (size_t n = 0; n < graph.nodes.size(); ++n) {
      if (removed[n]) continue;
      for (int in : graph.nodes[n].inputs)
        if (in != ir::kNoValue) consumers[size_t(in)].push_back(int(n));
    }
    for (size_t n = 0; n < graph.nodes.size(); ++n) {
      if (removed[n]) continue;
      ir::Node& conv = graph.nodes[n];
      if (conv.op_type != "Conv" || conv.attrs.has(kAttrActivation)) continue;
      if (graph.values[size_t(conv.inputs[0])].shape.size() != 4) continue;
      const int out = conv.outputs[0];
      if (uses[size_t(out)] != 1 || graph.is_graph_output(out) || consumers[size_t(out)].size() != 1) continue;
      const int next_index = consumers[size_t(out)][0];
      ir::Node& next = graph.nodes[size_t(next_index)];
      if (next.op_type == "Relu") {
        conv.attrs.set(kAttrActivation, std::string("Relu"));
      } else if (next.op_type == "Add" && !conv.attrs.has(kAttrResidual)) {
        const int other = next.inputs[0] == out ? next.inputs[1] : next.inputs[0];
        if (next.inputs[0] == next.inputs[1]) continue;
        const ir::Value& ov = graph.values[size_t(other)];
        if (ov.shape != graph.values[size_t(out)].shape || ov.dtype != graph.values[size_t(out)].dtype) continue;
        // The residual must be ready before the conv runs: produced by an earlier node (the graph
        // is topologically sorted), a graph input or a constant.
        const int p = producer[size_t(other)];
        if (p >= 0 && size_t(p) > n) continue;
        while (conv.inputs.size() < 3) conv.inputs.push_back(ir::kNoValue);
        conv.inputs.push_back(other);
        conv.attrs.set(kAttrResidual, int64_t(1));
      } else {
        continue;
      }
      if (conv.fused_from.empty()) conv.fused_from.push_back(conv.name);
      conv.fused_from.push_back(next.name);
      conv.outputs[0] = next.outputs[0];
      removed[size_t(next_index)] = true;
      ++fused;
      changed = true;
      break;  // recompute use counts
    }
  }
  std::vector<ir::Node> kept;
  for (size_t n = 0; n < graph.nodes.size(); ++n)
    if (!removed[n]) kept.push_back(std::move(graph.nodes[n]));
  graph.nodes = std::move(kept);
  return fused;
}

// GroupNorm with one group, as exported: InstanceNormalization -> Reshape -> Mul(per-channel
// constant) -> Add(per-channel constant) becomes one InstanceNormalization layer whose kernel
// applies the per-channel affine (inputs 3 and 4). Returns the number of patterns fused.
int fuse_group_norm(ir::Graph& graph) {
  std::vector<std::vector<int>> consumers(graph.values.size());
  for (size_t n = 0; n < graph.nodes.size(); ++n)
    for (int in : graph.nodes[n].inputs)
      if (in != ir::kNoValue) consumers[size_t(in)].push_back(int(n));
  const std::vector<int> uses = graph.use_counts();
  auto single_consumer = [&](int value, const char* op) -> int {
    if (uses[size_t(value)] != 1 || graph.is_graph_output(value) || consumers[size_t(value)].size() != 1) return -1;
    const int c = consumers[size_t(value)][0];
    return graph.nodes[size_t(c)].op_type == op ? c : -1;
  };
  auto other_constant = [&](const ir::Node& node, int value) -> int {
    if (node.inputs.size() != 2) return ir::kNoValue;
    const int other = node.inputs[0] == value ? node.inputs[1] : node.inputs[0];
    return graph.values[size_t(other)].constant ? other : ir::kNoValue;
  };
  std::vector<bool> removed(graph.nodes.size(), false);
  int fused = 0;
  for (size_t n = 0; n < graph.nodes.size(); ++n) {
    if (graph.nodes[n].op_type != "InstanceNormalization" || graph.nodes[n].inputs.size() != 3) continue;
    const int r = single_consumer(graph.nodes[n].outputs[0], "Reshape");
    if (r < 0 || graph.nodes[size_t(r)].inputs[0] != graph.nodes[n].outputs[0]) continue;
    const int m = single_consumer(graph.nodes[size_t(r)].outputs[0], "Mul");
    if (m < 0) continue;
    const int a = single_consumer(graph.nodes[size_t(m)].outputs[0], "Add");
    if (a < 0) continue;
    const int scale = other_constant(graph.nodes[size_t(m)], graph.nodes[size_t(r)].outputs[0]);
    const int bias = other_constant(graph.nodes[size_t(a)], graph.nodes[size_t(m)].outputs[0]);
    if (scale == ir::kNoValue || bias == ir::kNoValue) continue;
    const Shape& shape = graph.values[size_t(graph.nodes[size_t(r)].outputs[0])].shape;
    if (graph.values[size_t(graph.nodes[size_t(a)].outputs[0])].shape != shape) continue;
    // The constants must vary along one axis d of the output at most: channel = (i / inner) % dim(d).
    const Shape& cs = graph.values[size_t(scale)].shape;
    const Shape& bs = graph.values[size_t(bias)].shape;
    if (cs.size() > shape.size() || bs.size() > shape.size()) continue;
    int axis = -1;
    bool ok = true;
    for (const Shape* c : {&cs, &bs}) {
      const size_t offset = shape.size() - c->size();
      for (size_t i = 0; i < c->size(); ++i) {
        if ((*c)[i] == 1) continue;
        if ((*c)[i] != shape[i + offset] || (axis >= 0 && axis != int(i + offset))) ok = false;
        axis = int(i + offset);
      }
    }
    if (!ok) continue;
    int64_t inner = 1, channels = 1;
    if (axis >= 0) {
      channels = shape[size_t(axis)];
      for (size_t i = size_t(axis) + 1; i < shape.size(); ++i) inner *= shape[i];
    }
    if (shape_numel(cs) != channels || shape_numel(bs) != channels) continue;
    ir::Node& norm = graph.nodes[n];
    norm.inputs.push_back(scale);
    norm.inputs.push_back(bias);
    norm.attrs.set(kAttrAffineInner, inner);
    norm.attrs.set(kAttrAffineChannels, channels);
    norm.fused_from = {norm.name, graph.nodes[size_t(r)].name, graph.nodes[size_t(m)].name, graph.nodes[size_t(a)].name};
    norm.outputs[0] = graph.nodes[size_t(a)].outputs[0];
    removed[size_t(r)] = removed[size_t(m)] = removed[size_t(a)] = true;
    ++fused;
  }
  std::vector<ir::Node> kept;
  for (size_t n = 0; n < graph.nodes.size(); ++n)
    if (!removed[n]) kept.push_back(std::move(graph.nodes[n]));
  graph.nodes = std::move(kept);
  return fused;
}

// Ops that run in FP16 when the builder allows it (their float tensors are stored as FP16;
// statistics, softmax and reductions still accumulate in FP32 inside the kernels).
bool fp16_capable(const std::string& op) {
  static const char* const ops[] = {
      "Conv", "MatMul", "Relu", "LeakyRelu", "Sigmoid", "Tanh", "Clip", "HardSigmoid", "HardSwish", "Add", "Sub",
      "Mul", "Div", "Max", "Min", "InstanceNormalization", "Softmax", "ReduceSum", "ReduceMean", "ReduceMax",
      "ReduceMin", "GlobalAveragePool", "GlobalMaxPool", "Split", "Concat", "Reshape", "Flatten", "Squeeze",
      "Unsqueeze", "Transpose", "DepthToSpace", "SpaceToDepth", "Slice", "Expand", "Identity", "Dropout", "ArgMax",
      "ArgMin", "GatherElements", "Gather", "Equal", "Where", "Cast", "Neg", "Abs", "Exp", "Erf", "Gelu", "Sqrt",
      "MaxPool", "AveragePool", "Pad", "Resize", "Elu", "Selu", "Softsign",
      "Round", "Sign", "Sin", "Cos"};
  for (const char* name : ops)
    if (op == name) return true;
  return false;
}

// Whether float input i of a layer is converted to the layer's precision. Not Clip's bounds and
// Resize's roi and scales (read on the host), nor the scales of quantizers and integer convolutions and the latter's bias
// (float32 on the device, so that the integer layers scale exactly as the CPU does), nor the
// inputs whose kernels take float32 and float16 alike: an FP16 quantizer's input (the integer
// path) and an integer convolution's residual are read as their producer wrote them (no reformat
// launch, and a float32 network input is quantized exactly as the CPU does).
bool follows_layer_precision(const ir::Node& node, size_t i) {
  if (node.op_type == "Clip" || node.op_type == "DequantizeLinear" || node.op_type == "Resize") return i == 0;
  if (node.op_type == "QuantizeLinear") return node.precision != ir::Precision::kFP16 && i == 0;  // FP32: as before
  if (node.op_type == "QConv") return false;
  return true;
}

ir::Node make_cast(ir::Graph& graph, int from, int to, DataType target) {
  ir::Node cast;
  cast.name = graph.unique_name(graph.values[size_t(to)].name + "_reformat");
  cast.op_type = "Cast";
  cast.opset = graph.opset;
  cast.inputs = {from};
  cast.outputs = {to};
  cast.attrs.set("to", int64_t(target == DataType::kHALF ? 10 : 1));
  cast.precision = target == DataType::kHALF ? ir::Precision::kFP16 : ir::Precision::kFP32;
  return cast;
}

Tensor convert_constant(const Tensor& t, DataType target) {
  Tensor out(target, t.shape());
  const int64_t n = t.numel();
  if (target == DataType::kHALF) {
    for (int64_t i = 0; i < n; ++i) out.data<Half>()[i] = float_to_half(float(t.double_at(i)));
  } else {
    for (int64_t i = 0; i < n; ++i) out.data<float>()[i] = float(t.double_at(i));
  }
  return out;
}

bool has_float_tensor(const ir::Graph& graph, const ir::Node& node) {
  for (const std::vector<int>* ids : {&node.inputs, &node.outputs})
    for (int v : *ids)
      if (v != ir::kNoValue && is_float_type(graph.values[size_t(v)].dtype)) return true;
  return false;
}

// Build time: each layer's precision, recorded in the engine (FP16 for float layers of the ops
// that have FP16 kernels when FP16 is allowed, FP32 otherwise).
// Quantizers run on FP16 values only with the integer kernels (both are new together and are
// switched on together until they have run on a GPU; the QDQ-in-float path keeps FP32 quantizers).
void assign_node_precision(ir::Graph& graph, bool fp16, bool fp16_quantizers) {
  for (ir::Node& node : graph.nodes) {
    const bool quantizer = node.op_type == "QuantizeLinear" || node.op_type == "DequantizeLinear";
    const bool capable = quantizer ? fp16_quantizers : fp16_capable(node.op_type);
    node.precision = fp16 && has_float_tensor(graph, node) && capable ? ir::Precision::kFP16 : ir::Precision::kFP32;
  }
}

// Lowering: the float tensors of FP16 layers become FP16 values; reformatting Casts go where an
// FP32 tensor meets an FP16 layer or the other way round (graph inputs and outputs stay FP32), and
// constants read by FP16 layers get FP16 copies.
void apply_precision(ir::Graph& graph) {
  const size_t original_nodes = graph.nodes.size();
  // version[v][dtype] = the value holding v's data in that dtype.
  std::map<int, std::map<DataType, int>> version;
  std::vector<ir::Node> added;
  auto version_of = [&](int v, DataType want) -> int {
    auto& versions = version[v];
    if (versions.empty()) versions[graph.values[size_t(v)].dtype] = v;
    auto it = versions.find(want);
    if (it != versions.end()) return it->second;
    const int source = versions.begin()->second;
    ir::Value converted = graph.values[size_t(v)];
    converted.name = graph.unique_name(converted.name + (want == DataType::kHALF ? "_fp16" : "_fp32"));
    converted.dtype = want;
    if (graph.values[size_t(source)].constant) {
      converted.constant = convert_constant(*graph.values[size_t(source)].constant, want);
      const int id = graph.add_value(std::move(converted));
      versions[want] = id;
      return id;
    }
    converted.constant.reset();
    const int id = graph.add_value(std::move(converted));
    added.push_back(make_cast(graph, source, id, want));
    versions[want] = id;
    return id;
  };
  for (size_t n = 0; n < original_nodes; ++n) {
    const bool half = graph.nodes[n].precision == ir::Precision::kFP16;
    const DataType want = half ? DataType::kHALF : DataType::kFLOAT;
    for (size_t i = 0; i < graph.nodes[n].inputs.size(); ++i) {
      const int v = graph.nodes[n].inputs[i];
      if (v == ir::kNoValue || !is_float_type(graph.values[size_t(v)].dtype)) continue;
      if (!follows_layer_precision(graph.nodes[n], i)) continue;
      const int chosen = version_of(v, want);
      graph.nodes[n].inputs[i] = chosen;
    }
    if (!half) continue;
    for (size_t i = 0; i < graph.nodes[n].outputs.size(); ++i) {
      const int v = graph.nodes[n].outputs[i];
      if (v == ir::kNoValue || graph.values[size_t(v)].dtype != DataType::kFLOAT) continue;
      if (graph.is_graph_output(v)) {
        ir::Value h = graph.values[size_t(v)];
        h.name = graph.unique_name(h.name + "_fp16");
        h.dtype = DataType::kHALF;
        const int hid = graph.add_value(std::move(h));
        graph.nodes[n].outputs[i] = hid;
        added.push_back(make_cast(graph, hid, v, DataType::kFLOAT));
        version[v][DataType::kHALF] = hid;
        version[v][DataType::kFLOAT] = v;
      } else {
        graph.values[size_t(v)].dtype = DataType::kHALF;
        version[v][DataType::kHALF] = v;
      }
    }
    if (graph.nodes[n].op_type == "Cast" && graph.values[size_t(graph.nodes[n].outputs[0])].dtype == DataType::kHALF)
      graph.nodes[n].attrs.set("to", int64_t(10));
  }
  for (ir::Node& node : added) graph.nodes.push_back(std::move(node));
}

}  // namespace

// The own GEMM-with-epilogue kernels and the one-launch InstanceNorm are not on for every layer:
// on the H100 they measured slower than cuBLAS + the epilogue kernel and the two-pass norm on
// most of SMAT (3.33 ms against 1.03 ms in FP16 with all of them on), so the builder times them
// per layer instead (compile() below); these switches force them on or off everywhere.
namespace {

// Timing decides where no switch forces a choice, with fusion on.
bool kernel_timing_wanted(const LoweringOptions& options) {
  if (!options.conv_epilogue || std::getenv("KESTREL_CUDA_NO_KERNEL_TIMING")) return false;
  for (const char* forced : {"KESTREL_CUDA_GEMM_EPILOGUE", "KESTREL_CUDA_NO_GEMM_EPILOGUE", "KESTREL_CUDA_SINGLE_PASS_NORM",
                             "KESTREL_CUDA_NO_SINGLE_PASS_NORM"})
    if (std::getenv(forced)) return false;
  return true;
}

}  // namespace

LoweringOptions LoweringOptions::from_environment() {
  if (std::getenv("KESTREL_CUDA_NO_FUSION")) return all(false);
  const auto opted_in = [](const char* name) {
    const char* v = std::getenv(name);
    return v != nullptr && std::strcmp(v, "1") == 0;
  };
  LoweringOptions o;
  o.gemm_epilogue = opted_in("KESTREL_CUDA_GEMM_EPILOGUE") && !std::getenv("KESTREL_CUDA_NO_GEMM_EPILOGUE");
  o.separable_attention = !std::getenv("KESTREL_CUDA_NO_ATTENTION_FUSION");
  o.single_pass_norm = opted_in("KESTREL_CUDA_SINGLE_PASS_NORM") && !std::getenv("KESTREL_CUDA_NO_SINGLE_PASS_NORM");
  o.copy_chains = !std::getenv("KESTREL_CUDA_NO_COPY_FOLDING");
  o.norm_in_gemm = !std::getenv("KESTREL_CUDA_NO_NORM_IN_GEMM");
  // Opt-in until the integer kernels have been measured on the GPU (docs/int8.md).
  o.integer_convs = opted_in("KESTREL_CUDA_INT8_KERNELS") && !std::getenv("KESTREL_CUDA_NO_INT8_KERNELS");
  return o;
}

ir::Graph lower_for_cuda(const ir::Graph& engine_graph, bool fusion) {
  return lower_for_cuda(engine_graph, LoweringOptions::all(fusion));
}

ir::Graph lower_for_cuda(const ir::Graph& engine_graph, const LoweringOptions& options) {
  ir::Graph graph = engine_graph;
  for (ir::Node& node : graph.nodes) node.fused_from.clear();  // recomputed by the fusions below
  for (const ir::Node& node : graph.nodes)
    KESTREL_CHECK(find_cuda_kernel(node.op_type) != nullptr, "{}: no CUDA kernel for {} (opset {})", ir::describe(node),
                  node.op_type, node.opset);
  // Weights first (the fusions below look for constant weights), except those the integer
  // convolutions take as they are.
  fold_weight_dequantize(graph, options.integer_convs);
  // The attention rewrite matches FP32 values and plain Mul/Relu layers: before the others.
  if (options.separable_attention) fuse_separable_attention(graph);
  if (options.conv_epilogue) {
    fuse_group_norm(graph);
    fuse_conv_epilogues(graph);
  }
  if (options.integer_convs) {
    lower_qdq_convs(graph);  // with the epilogues inside, before the FP16 rewrite
    fuse_quantizers_into_producers(graph);
    fold_weight_dequantize(graph);  // the weights of QDQ convolutions it did not take
  }
  if (options.gemm_epilogue) mark_fused_gemm_convs(graph, options.gemm_epilogue_layers);
  if (options.single_pass_norm) mark_single_pass_norms(graph, options.single_pass_norm_layers);
  if (options.copy_chains) {
    lower_unfold_copies(graph);
    fold_copy_chains(graph);
  }
  apply_precision(graph);
  if (options.norm_in_gemm) fuse_norm_into_gemm(graph);  // matches FP16 layers
  // Constants that only FP32 layers read before the FP16 rewrite now have no reader.
  const std::vector<int> uses = graph.use_counts();
  for (size_t v = 0; v < graph.values.size(); ++v)
    if (graph.values[v].constant && uses[v] == 0) graph.values[v].constant.reset();
  graph.sort();
  for (ir::Node& node : graph.nodes) {
    const CudaKernel* kernel = find_cuda_kernel(node.op_type);
    try {
      node.kernel = kernel->choose(graph, node);
    } catch (const Error& e) {
      fail("{}", e.what());
    }
  }
  return graph;
}

namespace {

// A switch an engine does not record takes its default: engines from before the switches.
bool fact_on(const engine::EngineData& engine, const char* key, bool absent = true) {
  auto it = engine.target.find(key);
  return it == engine.target.end() ? absent : it->second != "off";
}

std::set<std::string> layer_list(const engine::EngineData& engine, const char* key) {
  std::set<std::string> names;
  auto it = engine.target.find(key);
  if (it == engine.target.end()) return names;
  size_t begin = 0;
  while (begin < it->second.size()) {
    size_t end = it->second.find('\n', begin);
    if (end == std::string::npos) end = it->second.size();
    if (end > begin) names.insert(it->second.substr(begin, end - begin));
    begin = end + 1;
  }
  return names;
}

std::string join_lines(const std::set<std::string>& names) {
  std::string text;
  for (const std::string& name : names) text += (text.empty() ? "" : "\n") + name;
  return text;
}

const char* switch_state(bool on, const std::set<std::string>& layers) { return !on ? "off" : layers.empty() ? "on" : "tuned"; }

}  // namespace

LoweringOptions lowering_options(const engine::EngineData& engine) {
  if (!fact_on(engine, kFactFusion)) return LoweringOptions::all(false);
  LoweringOptions o;
  o.gemm_epilogue = fact_on(engine, kFactGemmEpilogue, false);
  o.separable_attention = fact_on(engine, kFactAttention);
  o.single_pass_norm = fact_on(engine, kFactSinglePassNorm, false);
  o.copy_chains = fact_on(engine, kFactCopyChains);
  o.norm_in_gemm = fact_on(engine, kFactNormInGemm, false);  // engines from before it ran without
  o.integer_convs = fact_on(engine, kFactIntegerConvs, false);
  o.gemm_epilogue_layers = layer_list(engine, kFactGemmEpilogueLayers);
  o.single_pass_norm_layers = layer_list(engine, kFactSinglePassNormLayers);
  return o;
}

void record_lowering_options(engine::EngineData& engine, const LoweringOptions& options) {
  engine.target[kFactFusion] = options.conv_epilogue ? "on" : "off";
  engine.target[kFactGemmEpilogue] = switch_state(options.gemm_epilogue, options.gemm_epilogue_layers);
  engine.target[kFactAttention] = options.separable_attention ? "on" : "off";
  engine.target[kFactSinglePassNorm] = switch_state(options.single_pass_norm, options.single_pass_norm_layers);
  engine.target[kFactCopyChains] = options.copy_chains ? "on" : "off";
  engine.target[kFactNormInGemm] = options.norm_in_gemm ? "on" : "off";
  engine.target[kFactIntegerConvs] = options.integer_convs ? "on" : "off";
  engine.target.erase(kFactGemmEpilogueLayers);
  engine.target.erase(kFactSinglePassNormLayers);
  if (options.gemm_epilogue && !options.gemm_epilogue_layers.empty())
    engine.target[kFactGemmEpilogueLayers] = join_lines(options.gemm_epilogue_layers);
  if (options.single_pass_norm && !options.single_pass_norm_layers.empty())
    engine.target[kFactSinglePassNormLayers] = join_lines(options.single_pass_norm_layers);
}

void compile(engine::EngineData& engine, const BuilderConfig& config) {
  // The CUDA rewrites (src/passes, e.g. Gemm and LayerNormalization as the ops it has kernels for).
  passes::optimize(engine.graph, DeviceType::kCUDA);
  passes::give_outputs_producers(engine.graph);
  engine.graph.sort();
  const DeviceFacts facts = current_device_facts();
  engine.target[kFactComputeCapability] = facts.compute_capability;
  engine.target[kFactDeviceName] = facts.device_name;
  engine.target[kFactRuntime] = facts.runtime_version;
  engine.target[kFactCublas] = facts.cublas_version;
  LoweringOptions options = LoweringOptions::from_environment();
  const bool fp16 = config.get_flag(BuilderFlag::kFP16);
  if (kernel_timing_wanted(options)) {
    const TunedLayers tuned = time_kernel_choices(engine, fp16, options, facts, config.timing_cache_path());
    options.gemm_epilogue = !tuned.gemm_epilogue.empty();
    options.gemm_epilogue_layers = tuned.gemm_epilogue;
    options.single_pass_norm = !tuned.single_pass_norm.empty();
    options.single_pass_norm_layers = tuned.single_pass_norm;
    engine.target[kFactKernelTiming] =
        fmt::format("{} layers with two kernels ({} timings from the cache, {:.2f} s): one-kernel GEMM on {}, "
                    "one-launch norm on {}",
                    tuned.candidates, tuned.from_cache, tuned.seconds, tuned.gemm_epilogue.size(),
                    tuned.single_pass_norm.size());
  }
  record_lowering_options(engine, options);
  compile_graph(engine.graph, fp16, options);
}

void compile_graph(ir::Graph& graph, bool fp16, bool fusion) {
  compile_graph(graph, fp16, LoweringOptions::all(fusion));
}

void compile_graph(ir::Graph& graph, bool fp16, const LoweringOptions& options) {
  assign_node_precision(graph, fp16, options.integer_convs);
  const ir::Graph lowered = lower_for_cuda(graph, options);
  // Record the choices on the engine's own (ONNX-level) layers: the kernel of each layer, the
  // layers each fused layer absorbed, and "(fused)" on the absorbed ones.
  std::map<std::string, const ir::Node*> by_name;
  for (const ir::Node& node : lowered.nodes) by_name[node.name] = &node;
  std::map<std::string, std::string> absorbed_by;
  for (const ir::Node& node : lowered.nodes)
    for (const std::string& source : node.fused_from)
      if (source != node.name) absorbed_by[source] = node.name;
  for (ir::Node& node : graph.nodes) {
    auto it = by_name.find(node.name);
    if (it != by_name.end()) {
      node.kernel = it->second->kernel;
      node.fused_from = it->second->fused_from;
    } else if (node.op_type == "DequantizeLinear" && graph.values[size_t(node.inputs[0])].constant) {
      // Folded by fold_weight_dequantize (its output may even be gone from the lowered graph,
      // when only an FP16 copy of it is read).
      node.kernel = "(folded at load)";
    } else {
      KESTREL_CHECK(absorbed_by.count(node.name), "{}: lost while lowering for CUDA", ir::describe(node));
      node.kernel = "(fused)";
    }
  }
}

void check_compatible(const engine::EngineData& engine) {
  const DeviceFacts here = current_device_facts();
  auto fact = [&](const char* key) {
    auto it = engine.target.find(key);
    KESTREL_CHECK(it != engine.target.end(), "the CUDA engine does not record '{}': rebuild it with this version of Kestrel",
                  key);
    return it->second;
  };
  const std::string cc = fact(kFactComputeCapability);
  const std::string built_on = engine.target.count(kFactDeviceName) ? engine.target.at(kFactDeviceName) : "?";
  KESTREL_CHECK(cc == here.compute_capability,
                "the engine was built for a GPU of compute capability {} ({}), but this GPU ({}) has compute "
                "capability {}: engines are not portable across GPU architectures, rebuild it on this GPU",
                cc, built_on, here.device_name, here.compute_capability);
  const std::string runtime = fact(kFactRuntime);
  KESTREL_CHECK(major_of(runtime) == major_of(here.runtime_version),
                "the engine was built with CUDA runtime {}, this process uses CUDA runtime {}: rebuild the engine",
                runtime, here.runtime_version);
  const std::string cublas = fact(kFactCublas);
  KESTREL_CHECK(major_of(cublas) == major_of(here.cublas_version),
                "the engine was built with cuBLAS {}, this process uses cuBLAS {}: rebuild the engine", cublas,
                here.cublas_version);
  for (const ir::Node& node : engine.graph.nodes) {
    const CudaKernel* kernel = find_cuda_kernel(node.op_type);
    KESTREL_CHECK(kernel != nullptr && !node.kernel.empty(),
                  "{} uses kernel '{}', which this build of Kestrel does not have", ir::describe(node), node.kernel);
  }
}

// ------------------------------------------------------------------------------------------------
// Execution

namespace {

bool env_flag(const char* name, bool fallback) {
  const char* v = std::getenv(name);
  if (!v || !*v) return fallback;
  return !(std::strcmp(v, "0") == 0 || std::strcmp(v, "false") == 0 || std::strcmp(v, "off") == 0);
}

size_t align_up(size_t n, size_t a = 256) { return (n + a - 1) / a * a; }

struct DeviceBuffer {
  void* ptr = nullptr;
  DeviceBuffer() = default;
  explicit DeviceBuffer(size_t bytes) {
    if (bytes) KESTREL_CUDA_CHECK(cudaMalloc(&ptr, bytes));
  }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  DeviceBuffer(DeviceBuffer&& o) noexcept : ptr(o.ptr) { o.ptr = nullptr; }
  DeviceBuffer& operator=(DeviceBuffer&& o) noexcept {
    std::swap(ptr, o.ptr);
    return *this;
  }
  ~DeviceBuffer() {
    if (ptr) cudaFree(ptr);
  }
};

bool is_device_pointer(const void* p) {
  cudaPointerAttributes attr{};
  if (cudaPointerGetAttributes(&attr, p) != cudaSuccess) {
    cudaGetLastError();
    return false;
  }
  return attr.type == cudaMemoryTypeDevice || attr.type == cudaMemoryTypeManaged;
}

class CudaExecutor : public engine::Executor {
 public:
  explicit CudaExecutor(std::shared_ptr<const engine::EngineData> engine, const ExecutorOptions& options)
      : engine_(std::move(engine)),
        graph_(lower_for_cuda(engine_->graph, lowering_options(*engine_))),
        use_graph_(options.cuda_graph && !env_flag("KESTREL_CUDA_DEBUG", false)) {
    const ir::Graph& graph = graph_;
    KESTREL_CUDA_CHECK(cudaStreamCreateWithFlags(&own_stream_, cudaStreamNonBlocking));
    KESTREL_CUBLAS_CHECK(cublasCreate(&cublas_));
    cublas_workspace_ = DeviceBuffer(kCublasWorkspace);
    KESTREL_CUBLAS_CHECK(cublasSetWorkspace(cublas_, cublas_workspace_.ptr, kCublasWorkspace));

    addresses_.assign(graph.values.size(), nullptr);
    // Weights: every constant a layer reads, uploaded once into one buffer.
    std::vector<bool> used(graph.values.size(), false);
    for (const ir::Node& node : graph.nodes)
      for (int in : node.inputs)
        if (in != ir::kNoValue) used[size_t(in)] = true;
    size_t weight_bytes = 0;
    std::vector<size_t> weight_offset(graph.values.size(), 0);
    for (size_t v = 0; v < graph.values.size(); ++v) {
      if (!used[v] || !graph.values[v].constant) continue;
      weight_offset[v] = weight_bytes;
      weight_bytes += align_up(std::max<size_t>(graph.values[v].constant->nbytes(), 1));
    }
    weights_ = DeviceBuffer(weight_bytes);
    for (size_t v = 0; v < graph.values.size(); ++v) {
      if (!used[v] || !graph.values[v].constant) continue;
      void* dst = static_cast<std::byte*>(weights_.ptr) + weight_offset[v];
      const Tensor& t = *graph.values[v].constant;
      if (t.nbytes()) KESTREL_CUDA_CHECK(cudaMemcpy(dst, t.raw(), t.nbytes(), cudaMemcpyHostToDevice));
      addresses_[v] = dst;
    }
    // Activations: the engine's static plan, refined so that Reshape-like layers (pure copies)
    // become aliases: their outputs share their inputs' memory and the layers launch nothing.
    std::vector<int> alias_root(graph.values.size(), -1);
    skipped_.assign(graph.nodes.size(), false);
    engine::MemoryPlan plan;
    if (!env_flag("KESTREL_CUDA_ALIAS", true)) {
      plan = engine::plan_memory(graph);
    } else {
      ir::Graph planned = graph;
      const std::vector<int> producer = graph.producers();
      for (size_t n = 0; n < planned.nodes.size(); ++n) {
        const ir::Node& node = planned.nodes[n];
        if (node.kernel != "cuda.copy" || node.inputs.empty() || node.outputs.size() != 1) continue;
        const int in = node.inputs[0], out = node.outputs[0];
        if (in == ir::kNoValue || out == ir::kNoValue) continue;
        const ir::Value& iv = graph.values[size_t(in)];
        const ir::Value& ov = graph.values[size_t(out)];
        const bool arena_input = producer[size_t(in)] >= 0 && !iv.constant && !graph.is_graph_output(in);
        if (!arena_input || graph.is_graph_output(out) || iv.dtype != ov.dtype ||
            shape_numel(iv.shape) != shape_numel(ov.shape))
          continue;
        planned.replace_uses(out, in);
        alias_root[size_t(out)] = in;
        skipped_[n] = true;
      }
      std::vector<ir::Node> kept;
      for (size_t n = 0; n < planned.nodes.size(); ++n)
        if (!skipped_[n]) kept.push_back(planned.nodes[n]);
      planned.nodes = std::move(kept);
      plan = engine::plan_memory(planned);
    }
    arena_ = DeviceBuffer(align_up(plan.arena_bytes));
    arena_bytes_ = plan.arena_bytes;
    for (size_t v = 0; v < graph.values.size(); ++v)
      if (plan.offsets[v] != engine::kNotInArena) addresses_[v] = static_cast<std::byte*>(arena_.ptr) + plan.offsets[v];
    for (size_t v = 0; v < graph.values.size(); ++v)
      if (alias_root[v] >= 0) addresses_[v] = addresses_[size_t(alias_root[v])];
    // Inputs and outputs: buffers of their own until the caller binds memory.
    for (const std::vector<int>* ids : {&graph.inputs, &graph.outputs}) {
      for (int id : *ids) {
        if (own_io_.count(id)) continue;
        const ir::Value& value = graph.values[size_t(id)];
        const size_t bytes = size_t(shape_numel(value.shape)) * dtype_size(value.dtype);
        own_io_.emplace(id, DeviceBuffer(bytes));
        io_bytes_[id] = bytes;
        addresses_[size_t(id)] = own_io_.at(id).ptr;
      }
    }
    // One launch closure per layer.
    PlanContext ctx{graph, addresses_, cublas_, &scratch_ptr_, 0};
    for (size_t n = 0; n < graph.nodes.size(); ++n) {
      const ir::Node& node = graph.nodes[n];
      if (skipped_[n]) {
        launches_.push_back([](cudaStream_t) {});
        layer_names_.push_back(node.name);
        continue;
      }
      const CudaKernel* kernel = find_cuda_kernel(node.op_type);
      KESTREL_CHECK(kernel != nullptr, "{}: no CUDA kernel for {}", ir::describe(node), node.op_type);
      try {
        launches_.push_back(kernel->plan(ctx, node));
      } catch (const Error& e) {
        fail("{}: {}", ir::describe(node), e.what());
      }
      layer_names_.push_back(node.name);
    }
    scratch_ = DeviceBuffer(ctx.scratch_bytes);
    scratch_ptr_ = scratch_.ptr;
  }

  ~CudaExecutor() override {
    if (graph_exec_) cudaGraphExecDestroy(graph_exec_);
    if (cublas_) cublasDestroy(cublas_);
    if (own_stream_) {
      cudaStreamSynchronize(own_stream_);
      cudaStreamDestroy(own_stream_);
    }
  }

  void bind(int value, void* data) override {
    void* device = data;
    host_binding_.erase(value);
    if (data != nullptr && !is_device_pointer(data)) {
      // Host memory: staged through the context's own device buffer around each inference.
      host_binding_[value] = data;
      device = own_io_.at(value).ptr;
    }
    if (addresses_[size_t(value)] != device) {
      addresses_[size_t(value)] = device;
      graph_dirty_ = true;
    }
  }

  void* address(int value) const override {
    auto it = host_binding_.find(value);
    return it != host_binding_.end() ? it->second : addresses_[size_t(value)];
  }

  void enqueue(void* stream) override {
    cudaStream_t s = stream ? static_cast<cudaStream_t>(stream) : own_stream_;
    const ir::Graph& graph = graph_;
    for (int id : graph.inputs) {
      auto it = host_binding_.find(id);
      if (it != host_binding_.end() && io_bytes_[id])
        KESTREL_CUDA_CHECK(cudaMemcpyAsync(addresses_[size_t(id)], it->second, io_bytes_[id], cudaMemcpyHostToDevice, s));
    }
    if (use_graph_ && s != cudaStreamLegacy && s != cudaStreamPerThread) {
      if (graph_dirty_ || !graph_exec_) capture(s);
    }
    if (use_graph_ && graph_exec_) {
      KESTREL_CUDA_CHECK(cudaGraphLaunch(graph_exec_, s));
    } else {
      run_layers(s, debug_);
    }
    for (int id : graph.outputs) {
      auto it = host_binding_.find(id);
      if (it != host_binding_.end() && io_bytes_[id])
        KESTREL_CUDA_CHECK(cudaMemcpyAsync(it->second, addresses_[size_t(id)], io_bytes_[id], cudaMemcpyDeviceToHost, s));
    }
  }

  void synchronize(void* stream) override {
    cudaStream_t s = stream ? static_cast<cudaStream_t>(stream) : own_stream_;
    KESTREL_CUDA_CHECK(cudaStreamSynchronize(s));
    KESTREL_CUDA_CHECK(cudaGetLastError());
  }

  // Per-layer GPU time (ms) of one plain (graph-free) run on `stream`, for profiling.
  std::vector<engine::LayerTime> profile_layers(void* stream) override {
    cudaStream_t s = stream ? static_cast<cudaStream_t>(stream) : own_stream_;
    std::vector<cudaEvent_t> events(launches_.size() + 1);
    for (cudaEvent_t& e : events) KESTREL_CUDA_CHECK(cudaEventCreate(&e));
    KESTREL_CUDA_CHECK(cudaEventRecord(events[0], s));
    for (size_t i = 0; i < launches_.size(); ++i) {
      launches_[i](s);
      KESTREL_CUDA_CHECK(cudaEventRecord(events[i + 1], s));
    }
    KESTREL_CUDA_CHECK(cudaEventSynchronize(events.back()));
    std::vector<engine::LayerTime> times;
    for (size_t i = 0; i < launches_.size(); ++i) {
      float ms = 0;
      KESTREL_CUDA_CHECK(cudaEventElapsedTime(&ms, events[i], events[i + 1]));
      const ir::Node& node = graph_.nodes[i];
      times.push_back({node.name, node.op_type, skipped_[i] ? "(alias)" : node.kernel, double(ms)});
    }
    for (cudaEvent_t e : events) cudaEventDestroy(e);
    return times;
  }

 private:
  static constexpr size_t kCublasWorkspace = size_t(32) << 20;

  void run_layers(cudaStream_t s, bool debug = false) {
    for (size_t i = 0; i < launches_.size(); ++i) {
      try {
        launches_[i](s);
        if (debug) {  // KESTREL_CUDA_DEBUG=1: find the layer that faults
          KESTREL_CUDA_CHECK(cudaGetLastError());
          KESTREL_CUDA_CHECK(cudaStreamSynchronize(s));
        }
      } catch (const Error& e) {
        fail("{}: {}", ir::describe(graph_.nodes[i]), e.what());
      } catch (const std::exception& e) {
        fail("{}: {}", ir::describe(graph_.nodes[i]), e.what());
      }
    }
  }

  void capture(cudaStream_t s) {
    if (graph_exec_) {
      cudaGraphExecDestroy(graph_exec_);
      graph_exec_ = nullptr;
    }
    KESTREL_CUDA_CHECK(cudaStreamBeginCapture(s, cudaStreamCaptureModeThreadLocal));
    try {
      run_layers(s);
    } catch (...) {
      cudaGraph_t broken = nullptr;
      cudaStreamEndCapture(s, &broken);
      if (broken) cudaGraphDestroy(broken);
      throw;
    }
    cudaGraph_t graph = nullptr;
    const cudaError_t ended = cudaStreamEndCapture(s, &graph);
    if (ended != cudaSuccess || graph == nullptr) {
      cudaGetLastError();
      use_graph_ = false;  // fall back to plain launches
      return;
    }
    const cudaError_t made = cudaGraphInstantiate(&graph_exec_, graph, 0);
    cudaGraphDestroy(graph);
    if (made != cudaSuccess) {
      cudaGetLastError();
      graph_exec_ = nullptr;
      use_graph_ = false;
      return;
    }
    graph_dirty_ = false;
  }

  std::shared_ptr<const engine::EngineData> engine_;
  ir::Graph graph_;  // the engine's graph lowered for CUDA: fused layers, FP16 values, reformat Casts
  bool use_graph_ = true;
  bool debug_ = env_flag("KESTREL_CUDA_DEBUG", false);
  bool graph_dirty_ = true;
  cudaStream_t own_stream_ = nullptr;
  cublasHandle_t cublas_ = nullptr;
  DeviceBuffer cublas_workspace_, weights_, arena_, scratch_;
  void* scratch_ptr_ = nullptr;
  std::map<int, DeviceBuffer> own_io_;
  std::map<int, size_t> io_bytes_;
  std::map<int, void*> host_binding_;
  std::vector<void*> addresses_;  // never resized after planning: launch closures point into it
  std::vector<Launch> launches_;
  std::vector<std::string> layer_names_;
  std::vector<bool> skipped_;  // aliased copy layers: nothing to launch
  uint64_t arena_bytes_ = 0;
  cudaGraphExec_t graph_exec_ = nullptr;
};

std::unique_ptr<engine::Executor> create_default_executor(std::shared_ptr<const engine::EngineData> engine) {
  ExecutorOptions options;
  options.cuda_graph = env_flag("KESTREL_CUDA_GRAPH", true);
  return std::make_unique<CudaExecutor>(std::move(engine), options);
}

KESTREL_REGISTER_BACKEND(engine::Backend{DeviceType::kCUDA, unavailable_reason, compile, check_compatible,
                                         create_default_executor});

}  // namespace

std::unique_ptr<engine::Executor> create_executor(std::shared_ptr<const engine::EngineData> engine,
                                                  const ExecutorOptions& options) {
  return std::make_unique<CudaExecutor>(std::move(engine), options);
}

}  // namespace kestrel::cuda
