// Every fast CPU kernel against the reference kernel, on random shapes around SMAT's (odd sizes,
// strides, dilations, groups, broadcasts), in every layout combination the kernel allows (plain
// and channel-blocked nChw16c, converted here) and with one and two threads: outputs within
// 1e-4 (absolute, plus 1e-4 relative for large values).
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "backend/cpu/fast/kernel.h"
#include "ir/op_registry.h"
#include "support/op_test.h"

namespace kestrel::testing {
namespace {

using cpu::fast::Isa;
using cpu::fast::KernelImpl;
using cpu::fast::Layout;
using cpu::fast::Port;

// nChw16c <-> NCHW (C a multiple of 16).
void to_blocked(const float* plain, float* blocked, const Shape& s) {
  const int64_t n = s[0], c = s[1], hw = s[2] * s[3];
  for (int64_t b = 0; b < n; ++b)
    for (int64_t ch = 0; ch < c; ++ch)
      for (int64_t i = 0; i < hw; ++i)
        blocked[((b * (c / 16) + ch / 16) * hw + i) * 16 + ch % 16] = plain[(b * c + ch) * hw + i];
}

void from_blocked(const float* blocked, float* plain, const Shape& s) {
  const int64_t n = s[0], c = s[1], hw = s[2] * s[3];
  for (int64_t b = 0; b < n; ++b)
    for (int64_t ch = 0; ch < c; ++ch)
      for (int64_t i = 0; i < hw; ++i)
        plain[(b * c + ch) * hw + i] = blocked[((b * (c / 16) + ch / 16) * hw + i) * 16 + ch % 16];
}

// One node under test: its inputs (constants or activations) in a graph of its own.
struct Case {
  std::string name;
  ir::Graph graph;
  ir::Node node;
  std::vector<Tensor> inputs;  // activations' data (constants live in the graph)
};

struct Input {
  Tensor data;
  bool constant = false;
  bool absent = false;
};

Input act(Tensor t) { return {std::move(t), false, false}; }
Input weight(Tensor t) { return {std::move(t), true, false}; }
Input absent() { return {Tensor(), false, true}; }

Case make_case(const std::string& name, const std::string& op_type, std::vector<Input> inputs, int outputs = 1,
               ir::Attributes attrs = {}, int opset = 17, const std::string& domain = "") {
  Case c;
  c.name = name;
  c.node.name = name;
  c.node.op_type = op_type;
  c.node.domain = domain;
  c.node.opset = opset;
  c.node.attrs = std::move(attrs);
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (inputs[i].absent) {
      c.node.inputs.push_back(ir::kNoValue);
      c.inputs.emplace_back();
      continue;
    }
    const std::string value_name = "in" + std::to_string(i);
    int id;
    if (inputs[i].constant) {
      id = c.graph.add_constant(value_name, inputs[i].data);
      c.inputs.emplace_back();
    } else {
      ir::Value v;
      v.name = value_name;
      v.dtype = inputs[i].data.dtype();
      v.shape = inputs[i].data.shape();
      v.shape_known = true;
      id = c.graph.add_value(v);
      c.graph.inputs.push_back(id);
      c.inputs.push_back(inputs[i].data);
    }
    c.node.inputs.push_back(id);
  }
  for (int o = 0; o < outputs; ++o) {
    ir::Value v;
    v.name = "out" + std::to_string(o);
    const int id = c.graph.add_value(v);
    c.node.outputs.push_back(id);
    c.graph.outputs.push_back(id);
  }
  ir::infer_node(c.graph, c.node);
  c.graph.nodes.push_back(c.node);
  return c;
}

// The reference outputs (every input as a tensor).
std::vector<Tensor> reference_outputs(const Case& c) {
  std::vector<const Tensor*> ptrs;
  for (size_t i = 0; i < c.node.inputs.size(); ++i) {
    const int v = c.node.inputs[i];
    if (v == ir::kNoValue)
      ptrs.push_back(nullptr);
    else if (c.graph.values[size_t(v)].constant)
      ptrs.push_back(&*c.graph.values[size_t(v)].constant);
    else
      ptrs.push_back(&c.inputs[i]);
  }
  return cpu::evaluate_node(c.node, ptrs);
}

bool blockable_value(const ir::Value& v) {
  return v.dtype == DataType::kFLOAT && v.shape.size() == 4 && v.shape[1] > 0 && v.shape[1] % 16 == 0 && !v.constant;
}

// Layout assignments to try: all plain, then every subset of the blockable ports that keeps tied
// ports together.
std::vector<std::pair<std::vector<Layout>, std::vector<Layout>>> layout_choices(const Case& c, const KernelImpl& impl) {
  const ir::Node& node = c.graph.nodes[0];
  std::vector<std::pair<std::vector<Layout>, std::vector<Layout>>> out;
  const std::vector<Layout> plain_in(node.inputs.size(), Layout::kPlain), plain_out(node.outputs.size(), Layout::kPlain);
  out.emplace_back(plain_in, plain_out);
  if (!impl.layouts) return out;
  const cpu::fast::LayoutRules rules = impl.layouts(c.graph, node);
  std::vector<Port> ports;
  for (const Port& p : rules.blockable) {
    const int v = p.output ? node.outputs[size_t(p.index)] : node.inputs[size_t(p.index)];
    if (v != ir::kNoValue && blockable_value(c.graph.values[size_t(v)])) ports.push_back(p);
  }
  for (uint32_t mask = 1; mask < (1u << ports.size()); ++mask) {
    auto in = plain_in;
    auto o = plain_out;
    for (size_t i = 0; i < ports.size(); ++i)
      if (mask & (1u << i)) (ports[i].output ? o : in)[size_t(ports[i].index)] = Layout::kBlocked16;
    bool consistent = true;
    for (const auto& group : rules.tied) {
      std::vector<Layout> seen;
      for (const Port& p : group) {
        const auto& layouts = p.output ? o : in;
        if (size_t(p.index) < layouts.size() && (p.output ? node.outputs : node.inputs)[size_t(p.index)] != ir::kNoValue)
          seen.push_back(layouts[size_t(p.index)]);
      }
      if (!seen.empty() && std::count(seen.begin(), seen.end(), seen[0]) != std::ptrdiff_t(seen.size())) consistent = false;
    }
    if (consistent) out.emplace_back(in, o);
  }
  return out;
}

struct AlignedFree {
  void operator()(void* p) const { std::free(p); }
};

std::unique_ptr<void, AlignedFree> aligned(size_t bytes) {
  return std::unique_ptr<void, AlignedFree>(std::aligned_alloc(64, std::max<size_t>(64, (bytes + 63) / 64 * 64)));
}

// Runs one implementation with the given layouts and threads; returns the outputs (plain).
std::vector<Tensor> run_fast(const Case& c, const KernelImpl& impl, const std::vector<Layout>& in_layouts,
                             const std::vector<Layout>& out_layouts, int threads) {
  const ir::Node& node = c.graph.nodes[0];
  std::unique_ptr<cpu::fast::Kernel> kernel =
      impl.create(cpu::fast::PrepareContext(c.graph, node, in_layouts, out_layouts, threads));
  std::vector<std::unique_ptr<void, AlignedFree>> buffers;
  std::vector<const void*> inputs;
  for (size_t i = 0; i < node.inputs.size(); ++i) {
    const int v = node.inputs[i];
    if (v == ir::kNoValue) {
      inputs.push_back(nullptr);
    } else if (c.graph.values[size_t(v)].constant) {
      inputs.push_back(c.graph.values[size_t(v)].constant->raw());
    } else {
      const Tensor& t = c.inputs[i];
      buffers.push_back(aligned(t.nbytes()));
      if (in_layouts[i] == Layout::kBlocked16)
        to_blocked(t.data<float>(), static_cast<float*>(buffers.back().get()), t.shape());
      else
        std::memcpy(buffers.back().get(), t.raw(), t.nbytes());
      inputs.push_back(buffers.back().get());
    }
  }
  std::vector<void*> outputs;
  for (int v : node.outputs) {
    const ir::Value& value = c.graph.values[size_t(v)];
    const size_t bytes = size_t(shape_numel(value.shape)) * dtype_size(value.dtype);
    buffers.push_back(aligned(bytes));
    std::memset(buffers.back().get(), 0xff, std::max<size_t>(bytes, 1));  // NaN: every element must be written
    outputs.push_back(buffers.back().get());
  }
  auto scratch = aligned(kernel->scratch_bytes());
  cpu::fast::RunContext ctx;
  ctx.inputs = inputs.data();
  ctx.outputs = outputs.data();
  ctx.scratch = scratch.get();
  ctx.threads = threads;
  kernel->run(ctx);
  kernel->run(ctx);  // twice: a prepared kernel must be reusable
  std::vector<Tensor> result;
  for (size_t o = 0; o < node.outputs.size(); ++o) {
    const ir::Value& value = c.graph.values[size_t(node.outputs[o])];
    Tensor t(value.dtype, value.shape);
    if (out_layouts[o] == Layout::kBlocked16)
      from_blocked(static_cast<const float*>(outputs[o]), t.data<float>(), value.shape);
    else
      std::memcpy(t.raw(), outputs[o], t.nbytes());
    result.push_back(std::move(t));
  }
  return result;
}

std::string layout_name(const std::vector<Layout>& in, const std::vector<Layout>& out) {
  std::string s = "in:";
  for (Layout l : in) s += l == Layout::kBlocked16 ? 'b' : 'p';
  s += " out:";
  for (Layout l : out) s += l == Layout::kBlocked16 ? 'b' : 'p';
  return s;
}

// Checks every implementation that accepts the case; `expected` names the implementations that
// must accept it (so that a case cannot silently stop testing a kernel).
void check_case(const Case& c, const std::vector<std::string>& expected) {
  SCOPED_TRACE(c.name);
  const ir::Node& node = c.graph.nodes[0];
  const std::vector<Tensor> reference = reference_outputs(c);
  std::vector<std::string> accepted;
  for (const KernelImpl* impl : cpu::fast::kernel_impls_for(ir::qualified_op_type(node))) {
    if (impl->isa > cpu::fast::host_isa() || !impl->accepts(c.graph, node)) continue;
    accepted.push_back(impl->name);
    for (const auto& [in_layouts, out_layouts] : layout_choices(c, *impl)) {
      for (int threads : {1, 2}) {
        SCOPED_TRACE(std::string(impl->name) + " " + layout_name(in_layouts, out_layouts) + " threads " +
                     std::to_string(threads));
        std::vector<Tensor> actual;
        try {
          actual = run_fast(c, *impl, in_layouts, out_layouts, threads);
        } catch (const std::exception& e) {
          ADD_FAILURE() << "threw: " << e.what();
          continue;
        }
        ASSERT_EQ(actual.size(), reference.size());
        for (size_t o = 0; o < actual.size(); ++o) EXPECT_TRUE(tensors_near(actual[o], reference[o], 1e-4, 1e-4));
      }
    }
  }
  for (const std::string& name : expected) {
    const bool needs_avx512 = name.find("avx512") != std::string::npos || name == "cpu.onednn.winograd";
    if (needs_avx512 && cpu::fast::host_isa() < Isa::kAvx512Core) continue;
    EXPECT_NE(std::find(accepted.begin(), accepted.end(), name), accepted.end()) << name << " did not accept the case";
  }
}

ir::Attributes conv_attrs(std::vector<int64_t> strides, std::vector<int64_t> pads, int64_t group = 1,
                          std::vector<int64_t> dilations = {1, 1}) {
  ir::Attributes a;
  a.set("strides", strides);
  a.set("pads", pads);
  a.set("group", group);
  a.set("dilations", dilations);
  return a;
}

uint32_t seed = 1;
Tensor rnd(Shape s, float lo = -1.f, float hi = 1.f) { return random_float(std::move(s), seed++, lo, hi); }

// ------------------------------------------------------------------ convolutions

TEST(CpuFastConv, PointwiseAroundSmat) {
  struct Shape4 {
    int64_t cin, cout, h, w;
  };
  for (const Shape4& s : std::vector<Shape4>{{128, 257, 4, 320}, {64, 128, 33, 31}, {256, 128, 16, 16},
                                             {24, 40, 7, 9}, {192, 384, 4, 80}, {128, 128, 1, 256}}) {
    const float scale = 1.0f / std::sqrt(float(s.cin));
    Case c = make_case(fmt::format("1x1 {}->{} {}x{}", s.cin, s.cout, s.h, s.w), "Conv",
                       {act(rnd({1, s.cin, s.h, s.w})), weight(rnd({s.cout, s.cin, 1, 1}, -scale, scale)),
                        weight(rnd({s.cout}))},
                       1, conv_attrs({1, 1}, {0, 0, 0, 0}));
    check_case(c, {"cpu.onednn.conv", "cpu.onednn.pointwise", "cpu.avx512.pointwise"});
  }
  // A batch of two, odd channels, no bias: the matmul form broadcasts the weights over images.
  Case batched = make_case("1x1 batch 2 odd", "Conv",
                           {act(rnd({2, 19, 5, 7})), weight(rnd({13, 19, 1, 1}, -0.2f, 0.2f))}, 1,
                           conv_attrs({1, 1}, {0, 0, 0, 0}));
  check_case(batched, {"cpu.onednn.conv", "cpu.onednn.pointwise", "cpu.avx512.pointwise"});
}

// The own AVX-512 GEMM's register blocks are 6 rows x 64 columns (four vectors, the last one
// masked): every remainder of rows (1..5), of vectors (1..3) and of a vector's lanes, one and
// several column blocks, and reductions of 1, odd and SMAT's lengths, with the epilogues.
TEST(CpuFastConv, PointwiseGemmBlockEdges) {
  struct Shape3 {
    int64_t cout, cin, h, w;
  };
  for (const Shape3 s : {Shape3{1, 1, 1, 1}, Shape3{5, 3, 1, 15}, Shape3{6, 16, 4, 16}, Shape3{7, 33, 1, 17},
                         Shape3{13, 128, 4, 65}, Shape3{50, 7, 2, 100}, Shape3{96, 128, 4, 64},
                         Shape3{257, 130, 3, 43}}) {
    for (const char* activation : {"", "Relu", "Clip"}) {
      ir::Attributes a = conv_attrs({1, 1}, {0, 0, 0, 0});
      a.set("activation", std::string(activation));
      a.set("activation_min", -0.25f);
      a.set("activation_max", 0.5f);
      const float scale = 1.0f / std::sqrt(float(s.cin));
      Case c = make_case(fmt::format("1x1 {}->{} {}x{} act '{}'", s.cin, s.cout, s.h, s.w, activation), "FusedConv",
                         {act(rnd({2, s.cin, s.h, s.w})), weight(rnd({s.cout, s.cin, 1, 1}, -scale, scale)),
                          weight(rnd({s.cout})), act(rnd({2, s.cout, s.h, s.w}))},
                         1, a, 1, "kestrel");
      check_case(c, {"cpu.avx512.pointwise"});
    }
  }
}

// The matmul forms of 1x1 convolutions (oneDNN's and the own AVX-512 GEMM) only take what a
// matmul computes: stride 1, no padding, one group.
TEST(CpuFastConv, PointwiseMatmulRefusesStridesPadsAndGroups) {
  const KernelImpl* impl = cpu::fast::find_kernel_impl("Conv", "cpu.onednn.pointwise");
  ASSERT_NE(impl, nullptr);
  Case strided = make_case("1x1 s2", "Conv", {act(rnd({1, 16, 8, 8})), weight(rnd({16, 16, 1, 1}))}, 1,
                           conv_attrs({2, 2}, {0, 0, 0, 0}));
  Case padded = make_case("1x1 pad", "Conv", {act(rnd({1, 16, 8, 8})), weight(rnd({16, 16, 1, 1}))}, 1,
                          conv_attrs({1, 1}, {1, 0, 0, 1}));
  Case grouped = make_case("1x1 groups", "Conv", {act(rnd({1, 16, 8, 8})), weight(rnd({16, 8, 1, 1}))}, 1,
                           conv_attrs({1, 1}, {0, 0, 0, 0}, 2));
  Case dense = make_case("3x3", "Conv", {act(rnd({1, 16, 8, 8})), weight(rnd({16, 16, 3, 3}))}, 1,
                         conv_attrs({1, 1}, {1, 1, 1, 1}));
  const KernelImpl* own = cpu::fast::find_kernel_impl("Conv", "cpu.avx512.pointwise");
  ASSERT_NE(own, nullptr);
  for (const Case* c : {&strided, &padded, &grouped, &dense}) {
    EXPECT_FALSE(impl->accepts(c->graph, c->graph.nodes[0])) << c->name;
    EXPECT_FALSE(own->accepts(c->graph, c->graph.nodes[0])) << c->name;
    check_case(*c, {"cpu.onednn.conv"});  // the others still match the reference
  }
}

TEST(CpuFastConv, DepthwiseStridesAndPads) {
  for (int64_t ch : {64, 48, 20, 256}) {
    for (int64_t stride : {1, 2}) {
      Case c = make_case(fmt::format("dw3x3 c{} s{}", ch, stride), "Conv",
                         {act(rnd({1, ch, 17, 23})), weight(rnd({ch, 1, 3, 3}, -0.3f, 0.3f)), weight(rnd({ch}))}, 1,
                         conv_attrs({stride, stride}, {1, 1, 1, 1}, ch));
      check_case(c, {"cpu.onednn.conv"});
    }
  }
}

TEST(CpuFastConv, DenseThreeByThreeDilationGroupsAndAsymmetricPads) {
  Case head = make_case("3x3 128->64 16x16", "Conv",
                        {act(rnd({1, 128, 16, 16})), weight(rnd({64, 128, 3, 3}, -0.03f, 0.03f)), weight(rnd({64}))}, 1,
                        conv_attrs({1, 1}, {1, 1, 1, 1}));
  check_case(head, {"cpu.onednn.conv", "cpu.onednn.winograd"});
  Case odd = make_case("3x3 17->33 odd", "Conv", {act(rnd({2, 17, 11, 13})), weight(rnd({33, 17, 3, 3}, -0.1f, 0.1f))},
                       1, conv_attrs({2, 1}, {0, 1, 2, 1}));
  check_case(odd, {"cpu.onednn.conv"});
  Case dilated = make_case("3x3 dilation 2", "Conv",
                           {act(rnd({1, 32, 15, 15})), weight(rnd({32, 32, 3, 3}, -0.1f, 0.1f)), weight(rnd({32}))}, 1,
                           conv_attrs({1, 1}, {2, 2, 2, 2}, 1, {2, 2}));
  check_case(dilated, {"cpu.onednn.conv"});
  Case grouped = make_case("3x3 groups 4", "Conv",
                           {act(rnd({1, 32, 9, 10})), weight(rnd({64, 8, 3, 3}, -0.1f, 0.1f)), weight(rnd({64}))}, 1,
                           conv_attrs({1, 1}, {1, 1, 1, 1}, 4));
  check_case(grouped, {"cpu.onednn.conv"});
  Case first = make_case("first layer 3->32 s2", "Conv", {act(rnd({1, 3, 64, 66})), weight(rnd({32, 3, 3, 3}, -0.2f, 0.2f))},
                         1, conv_attrs({2, 2}, {1, 1, 1, 1}));
  check_case(first, {"cpu.onednn.conv"});
  ir::Attributes same = conv_attrs({2, 2}, {0, 0, 0, 0});
  same.erase("pads");
  same.set("auto_pad", std::string("SAME_UPPER"));
  Case same_upper = make_case("SAME_UPPER s2", "Conv", {act(rnd({1, 16, 10, 9})), weight(rnd({16, 16, 3, 3}, -0.1f, 0.1f))},
                              1, same);
  check_case(same_upper, {"cpu.onednn.conv"});
}

TEST(CpuFastConv, FusedActivationsAndResiduals) {
  for (const char* activation : {"", "Relu", "Clip"}) {
    for (bool residual : {false, true}) {
      for (int64_t k : {1, 3}) {
        ir::Attributes a = conv_attrs({1, 1}, {k / 2, k / 2, k / 2, k / 2});
        a.set("activation", std::string(activation));
        a.set("activation_min", 0.0f);
        a.set("activation_max", 0.5f);
        std::vector<Input> inputs{act(rnd({1, 64, 12, 14})), weight(rnd({32, 64, k, k}, -0.05f, 0.05f)),
                                  weight(rnd({32}))};
        if (residual) inputs.push_back(act(rnd({1, 32, 12, 14})));
        Case c = make_case(fmt::format("FusedConv {}x{} act '{}' residual {}", k, k, activation, residual), "FusedConv",
                           std::move(inputs), 1, a, 1, "kestrel");
        check_case(c, {"cpu.onednn.conv"});
      }
    }
  }
  // The attention's plain-layout case: GEMM-based, residual by a sum post-op, own activation.
  ir::Attributes a = conv_attrs({1, 1}, {0, 0, 0, 0});
  a.set("activation", std::string("Relu"));
  Case ffn = make_case("FusedConv 1x1 attention relu+residual", "FusedConv",
                       {act(rnd({1, 128, 4, 80})), weight(rnd({192, 128, 1, 1}, -0.1f, 0.1f)), absent(),
                        act(rnd({1, 192, 4, 80}))},
                       1, a, 1, "kestrel");
  check_case(ffn, {"cpu.onednn.conv", "cpu.onednn.pointwise", "cpu.avx512.pointwise"});
}

TEST(CpuFastConv, OneHotUnfoldGathers) {
  // MobileViT's unfolding: depthwise, 2x2 patches, output channel c * 4 + p picks pixel p.
  for (int64_t ch : {128, 24}) {
    for (int64_t patch : {2, 1}) {
      const int64_t area = patch * patch;
      Tensor w(DataType::kFLOAT, {ch * area, 1, patch, patch});
      for (int64_t c = 0; c < ch; ++c)
        for (int64_t p = 0; p < area; ++p) w.data<float>()[(c * area + p) * area + p] = 1.0f;
      Case c = make_case(fmt::format("unfold c{} patch {}", ch, patch), "Conv", {act(rnd({1, ch, 16, 14})), weight(w)},
                         1, conv_attrs({patch, patch}, {0, 0, 0, 0}, ch));
      check_case(c, {"cpu.gather.unfold"});
    }
  }
  // A padded, dilated one-hot gather with groups.
  Tensor w(DataType::kFLOAT, {8, 2, 3, 3});
  for (int64_t o = 0; o < 8; ++o) w.data<float>()[o * 18 + (o * 5) % 18] = 1.0f;
  Case padded = make_case("one-hot padded dilated", "Conv", {act(rnd({1, 4, 9, 8})), weight(w)}, 1,
                          conv_attrs({1, 2}, {2, 1, 1, 2}, 2, {2, 1}));
  check_case(padded, {"cpu.gather.unfold"});
}

// ------------------------------------------------------------------ element-wise

TEST(CpuFastEltwise, UnaryOddSizes) {
  for (int64_t n : {1, 15, 16, 17, 1000, 163840}) {
    for (const char* op : {"Relu", "Sigmoid", "Exp", "Tanh"}) {
      Case c = make_case(fmt::format("{} n={}", op, n), op, {act(rnd({1, n}, -8.f, 8.f))});
      check_case(c, {"cpu.avx512.eltwise", "cpu.generic.eltwise"});
    }
    Case clip = make_case(fmt::format("Clip n={}", n), "Clip",
                          {act(rnd({n}, -2.f, 2.f)), weight(make_float({}, {-0.5f})), weight(make_float({}, {0.75f}))});
    check_case(clip, {"cpu.avx512.eltwise", "cpu.generic.eltwise"});
  }
  Case blocked = make_case("Relu 4-D", "Relu", {act(rnd({1, 32, 5, 7}))});
  check_case(blocked, {"cpu.avx512.eltwise"});
}

TEST(CpuFastEltwise, BinaryBroadcasts) {
  struct Pair {
    Shape a, b;
  };
  for (const Pair& p : std::vector<Pair>{{{1, 128, 4, 320}, {1, 128, 4, 1}},
                                         {{1, 64, 16, 16}, {1, 64, 1, 1}},
                                         {{2, 3, 5}, {5}},
                                         {{1, 32, 7, 9}, {1, 32, 7, 9}},
                                         {{17}, {}},
                                         {{3, 1, 5}, {1, 4, 1}},
                                         {{1, 1, 33}, {2, 7, 1}}}) {
    for (const char* op : {"Add", "Sub", "Mul", "Div"}) {
      Case c = make_case(fmt::format("{} {} {}", op, shape_str(p.a), shape_str(p.b)), op,
                         {act(rnd(p.a)), act(rnd(p.b, 0.5f, 2.0f))});
      check_case(c, {"cpu.avx512.binary", "cpu.generic.binary"});
    }
  }
  Case constant = make_case("Mul by constant", "Mul", {act(rnd({1, 128, 4, 20})), weight(rnd({128, 1, 1}))});
  check_case(constant, {"cpu.avx512.binary"});
}

// ------------------------------------------------------------------ normalisation, reductions

TEST(CpuFastNorm, GroupNormOneAndSeveralGroups) {
  struct GN {
    Shape x;
    int64_t groups;
    float offset;
  };
  for (const GN& g : std::vector<GN>{{{1, 128, 4, 320}, 1, 0.f}, {{1, 192, 4, 80}, 1, 3.f}, {{2, 12, 5, 7}, 4, -2.f},
                                      {{1, 6, 3}, 3, 0.f}}) {
    Tensor x = rnd(g.x, g.offset - 1.f, g.offset + 1.f);
    ir::Attributes a;
    a.set("num_groups", g.groups);
    a.set("epsilon", 1e-5f);
    Case c = make_case(fmt::format("GroupNorm {} G={}", shape_str(g.x), g.groups), "GroupNorm",
                       {act(x), weight(rnd({g.x[1]})), weight(rnd({g.x[1]}))}, 1, a, 1, "kestrel");
    check_case(c, {"cpu.avx512.groupnorm", "cpu.generic.groupnorm"});
  }
}

TEST(CpuFastNorm, SoftmaxReductionsPooling) {
  for (Shape s : std::vector<Shape>{{1, 1, 4, 320}, {3, 7, 17}, {1, 1, 1, 256}, {5, 1}}) {
    Case c = make_case("Softmax " + shape_str(s), "Softmax", {act(rnd(s, -5.f, 5.f))});
    check_case(c, {"cpu.avx512.softmax", "cpu.generic.softmax"});
  }
  ir::Attributes axis1;
  axis1.set("axis", int64_t(1));
  Case middle = make_case("Softmax axis 1 of [4,9,1,1]", "Softmax", {act(rnd({4, 9, 1, 1}))}, 1, axis1);
  check_case(middle, {"cpu.avx512.softmax"});

  for (const char* op : {"ReduceSum", "ReduceMean"}) {
    const bool axes_input = std::string(op) == "ReduceSum";
    for (std::vector<int64_t> axes : std::vector<std::vector<int64_t>>{{-1}, {2, 3}, {3}}) {
      ir::Attributes a;
      a.set("keepdims", int64_t(1));
      std::vector<Input> inputs{act(rnd({1, 128, 4, 33}))};
      if (axes_input)
        inputs.push_back(weight(make_int64({int64_t(axes.size())}, axes)));
      else
        a.set("axes", axes);
      Case c = make_case(fmt::format("{} axes {}", op, shape_str(axes)), op, std::move(inputs), 1, a, 17);
      check_case(c, {"cpu.avx512.reduce"});
    }
  }
  Case pool = make_case("GlobalAveragePool", "GlobalAveragePool", {act(rnd({2, 64, 16, 15}))});
  check_case(pool, {"cpu.avx512.reduce"});
}

TEST(CpuFastAttention, SeparableAttentionCore) {
  for (Shape s : std::vector<Shape>{{1, 257, 4, 320}, {1, 385, 4, 80}, {2, 9, 3, 7}, {1, 257, 1, 256}, {1, 5, 11}}) {
    Case c = make_case("SeparableAttention " + shape_str(s), "SeparableAttention", {act(rnd(s, -3.f, 3.f))}, 1, {}, 1,
                       "kestrel");
    check_case(c, {"cpu.avx512.attention", "cpu.generic.attention"});
  }
}

TEST(CpuFastAttention, LinearAttentionProjectsOnlyTheValues) {
  struct Shape3 {
    int64_t c, p, n;
  };
  for (const Shape3& s : std::vector<Shape3>{{128, 4, 320}, {192, 4, 80}, {128, 1, 256}, {5, 3, 7}}) {
    const float scale = 1.0f / std::sqrt(float(s.c));
    Case c = make_case(fmt::format("LinearAttention C={} {}x{}", s.c, s.p, s.n), "LinearAttention",
                       {act(rnd({1, s.c, s.p, s.n}, -2.f, 2.f)), weight(rnd({1 + 2 * s.c, s.c, 1, 1}, -scale, scale)),
                        weight(rnd({1 + 2 * s.c}))},
                       1, {}, 1, "kestrel");
    check_case(c, {"cpu.avx512.attention", "cpu.generic.attention"});
  }
  Case batched = make_case("LinearAttention batch 2, rank 3", "LinearAttention",
                           {act(rnd({2, 6, 9})), weight(rnd({13, 6, 1}, -0.4f, 0.4f)), weight(rnd({13}))}, 1, {}, 1,
                           "kestrel");
  check_case(batched, {"cpu.avx512.attention"});
}

// ------------------------------------------------------------------ data movement, MatMul

TEST(CpuFastMovement, SliceSplitConcatExpandTransposeDepthToSpace) {
  auto ints = [](std::vector<int64_t> v) { return weight(make_int64({int64_t(v.size())}, v)); };
  check_case(make_case("Slice last axis", "Slice",
                       {act(rnd({1, 128, 4, 320})), ints({0}), ints({256}), ints({3})}),
             {"cpu.copy"});
  check_case(make_case("Slice steps 2 and -1", "Slice",
                       {act(rnd({3, 10, 9})), ints({1, 8}), ints({10, 0}), ints({1, 2}), ints({2, -1})}),
             {"cpu.copy"});
  ir::Attributes split_axis1;
  split_axis1.set("axis", int64_t(1));
  check_case(make_case("Split qkv", "Split", {act(rnd({1, 257, 4, 33})), ints({1, 128, 128})}, 3, split_axis1),
             {"cpu.copy"});
  ir::Attributes split_axis3;
  split_axis3.set("axis", int64_t(3));
  check_case(make_case("Split last axis", "Split", {act(rnd({2, 3, 4, 9})), ints({4, 5})}, 2, split_axis3), {"cpu.copy"});
  ir::Attributes concat3;
  concat3.set("axis", int64_t(3));
  check_case(make_case("Concat tokens", "Concat", {act(rnd({1, 128, 4, 256})), act(rnd({1, 128, 4, 64}))}, 1, concat3),
             {"cpu.copy"});
  ir::Attributes concat1;
  concat1.set("axis", int64_t(1));
  check_case(make_case("Concat channels", "Concat", {act(rnd({2, 3, 5})), act(rnd({2, 1, 5})), act(rnd({2, 4, 5}))}, 1,
                       concat1),
             {"cpu.copy"});
  check_case(make_case("Expand", "Expand", {act(rnd({1, 128, 4, 1})), ints({1, 128, 4, 320})}), {"cpu.copy"});
  check_case(make_case("Expand rank up", "Expand", {act(rnd({3, 1})), ints({2, 3, 5})}), {"cpu.copy"});
  ir::Attributes perm;
  perm.set("perm", std::vector<int64_t>{0, 2, 1});
  check_case(make_case("Transpose", "Transpose", {act(rnd({1, 384, 64}))}, 1, perm), {"cpu.copy"});
  for (const char* mode : {"DCR", "CRD"}) {
    for (int64_t r : {2, 3, 1}) {
      ir::Attributes a;
      a.set("blocksize", r);
      a.set("mode", std::string(mode));
      check_case(make_case(fmt::format("DepthToSpace {} r={}", mode, r), "DepthToSpace",
                           {act(rnd({2, 5 * r * r, 7, 6}))}, 1, a),
                 {"cpu.copy"});
    }
  }
}

TEST(CpuFastMatMul, BatchedAndBroadcast) {
  check_case(make_case("MatMul correlation", "MatMul", {act(rnd({1, 64, 384})), act(rnd({1, 384, 256}))}),
             {"cpu.onednn.matmul"});
  check_case(make_case("MatMul 3-D x 2-D", "MatMul", {act(rnd({3, 17, 5})), act(rnd({5, 9}))}), {"cpu.onednn.matmul"});
  check_case(make_case("MatMul batch broadcast", "MatMul", {act(rnd({2, 1, 4, 6})), act(rnd({3, 6, 5}))}),
             {"cpu.onednn.matmul"});
  check_case(make_case("MatMul constant weight", "MatMul", {act(rnd({7, 33})), weight(rnd({33, 65}))}),
             {"cpu.onednn.matmul"});
}

TEST(CpuFastViews, AliasKernelsCopyWhenNotAliased) {
  check_case(make_case("Reshape", "Reshape", {act(rnd({1, 128, 4, 64})), weight(make_int64({4}, {1, 512, 8, 8}))}),
             {"cpu.alias"});
  check_case(make_case("Flatten", "Flatten", {act(rnd({2, 3, 4}))}), {"cpu.alias"});
}

}  // namespace
}  // namespace kestrel::testing
