// The CPU fusion passes keep the reference semantics: small graphs are run node by node on the
// reference kernels before and after passes::optimize(graph, CPU), and must agree; the fused
// ops are there (or not, where a fusion must not apply); other devices see no fusion.
#include <gtest/gtest.h>

#include "backend/cpu/reference/kernel_registry.h"
#include "ir/op_registry.h"
#include "passes/pass.h"
#include "support/graph_run.h"
#include "support/op_test.h"

namespace kestrel::testing {
namespace {

// Optimizes a copy for the CPU, checks it computes the same, returns it.
ir::Graph fused_and_checked(const ir::Graph& original, const std::vector<Tensor>& inputs, double atol = 1e-5) {
  ir::Graph plain = original;
  passes::optimize(plain);  // shapes, folding: the device-independent baseline
  ir::Graph fused = original;
  passes::optimize(fused, DeviceType::kCPU);
  fused.sort();
  const std::vector<Tensor> expected = run_graph(plain, inputs);
  const std::vector<Tensor> actual = run_graph(fused, inputs);
  EXPECT_EQ(actual.size(), expected.size());
  for (size_t i = 0; i < actual.size(); ++i) EXPECT_TRUE(tensors_near(actual[i], expected[i], atol, 1e-5));
  return fused;
}

ir::Attributes pads(int64_t p) {
  ir::Attributes a;
  a.set("pads", std::vector<int64_t>{p, p, p, p});
  return a;
}

TEST(CpuFusions, ConvAddReluBecomesOneFusedConv) {
  GraphBuilder b;
  const int x = b.input("x", {1, 8, 9, 7});
  const int y = b.one("Conv", {x, b.constant(random_float({8, 8, 3, 3}, 1, -0.2f, 0.2f)), b.constant(random_float({8}, 2))},
                      pads(1));
  const int sum = b.one("Add", {x, y});  // residual on the left
  b.output(b.one("Relu", {sum}));
  const ir::Graph fused = fused_and_checked(b.graph, {random_float({1, 8, 9, 7}, 3)});
  ASSERT_EQ(fused.nodes.size(), 1u);
  EXPECT_EQ(ir::qualified_op_type(fused.nodes[0]), "kestrel.FusedConv");
  EXPECT_EQ(fused.nodes[0].attrs.get_string("activation"), "Relu");
  EXPECT_EQ(fused.nodes[0].inputs.size(), 4u);
  EXPECT_EQ(fused.nodes[0].fused_from.size(), 2u);
}

TEST(CpuFusions, ClipFusesReluThenAddDoesNot) {
  GraphBuilder b;
  const int x = b.input("x", {1, 4, 6, 6});
  const int conv = b.one("Conv", {x, b.constant(random_float({4, 4, 1, 1}, 4))});
  Tensor lo = make_float({}, {0.0f}), hi = make_float({}, {0.3f});
  const int clipped = b.one("Clip", {conv, b.constant(lo), b.constant(hi)});
  b.output(b.one("Add", {clipped, x}));  // after the activation: stays an Add
  const ir::Graph fused = fused_and_checked(b.graph, {random_float({1, 4, 6, 6}, 5)});
  EXPECT_EQ(count_ops(fused, "kestrel.FusedConv"), 1u);
  EXPECT_EQ(count_ops(fused, "Add"), 1u);
  for (const ir::Node& node : fused.nodes)
    if (node.op_type == "FusedConv") EXPECT_EQ(node.attrs.get_string("activation"), "Clip");
}

TEST(CpuFusions, SharedOrOutputValuesAreNotFused) {
  GraphBuilder b;
  const int x = b.input("x", {1, 4, 5, 5});
  const int conv = b.one("Conv", {x, b.constant(random_float({4, 4, 3, 3}, 6))}, pads(1));
  b.output(b.one("Relu", {conv}));
  b.output(b.one("Sigmoid", {conv}));  // a second reader of the conv output
  const int conv2 = b.one("Conv", {x, b.constant(random_float({4, 4, 1, 1}, 7))});
  b.output(conv2);  // a graph output
  b.output(b.one("Relu", {conv2}));
  const ir::Graph fused = fused_and_checked(b.graph, {random_float({1, 4, 5, 5}, 8)});
  EXPECT_EQ(count_ops(fused, "kestrel.FusedConv"), 0u);
  EXPECT_EQ(count_ops(fused, "Relu"), 2u);
}

TEST(CpuFusions, GroupNormChainBecomesOneOp) {
  for (int64_t groups : {1, 2}) {
    GraphBuilder b;
    const int x = b.input("x", {1, 8, 4, 10});
    const int grouped = b.one("Reshape", {x, b.ints({0, groups, -1})});
    const int norm = b.one("InstanceNormalization",
                           {grouped, b.constant(random_float({groups}, 9, 0.5f, 1.5f)), b.constant(random_float({groups}, 10))});
    const int back = b.one("Reshape", {norm, b.ints({1, 8, 4, 10})});
    const int scaled = b.one("Mul", {back, b.constant(random_float({8, 1, 1}, 11))});
    b.output(b.one("Add", {b.constant(random_float({8, 1, 1}, 12)), scaled}));
    const ir::Graph fused = fused_and_checked(b.graph, {random_float({1, 8, 4, 10}, 13, 2.0f, 4.0f)});
    ASSERT_EQ(fused.nodes.size(), 1u) << "groups " << groups;
    EXPECT_EQ(ir::qualified_op_type(fused.nodes[0]), "kestrel.GroupNorm");
    EXPECT_EQ(fused.nodes[0].attrs.get_int("num_groups"), groups);
    EXPECT_EQ(fused.nodes[0].fused_from.size(), 5u);
  }
}

TEST(CpuFusions, SeparableAttentionCoreBecomesOneOp) {
  const int64_t c = 6;
  for (bool expand : {true, false}) {
    GraphBuilder b;
    const int qkv = b.input("qkv", {1, 1 + 2 * c, 3, 11});
    ir::Attributes axis1;
    axis1.set("axis", int64_t(1));
    const std::vector<int> qkv_parts = b.node("Split", {qkv, b.ints({1, c, c})}, axis1, 3);
    ir::Attributes last;
    last.set("axis", int64_t(-1));
    const int scores = b.one("Softmax", {qkv_parts[0]}, last);
    const int weighted = b.one("Mul", {qkv_parts[1], scores});
    const int context = b.one("ReduceSum", {weighted, b.ints({-1})});
    const int spread = expand ? b.one("Expand", {context, b.ints({1, c, 3, 11})}) : context;
    const int gated = b.one("Relu", {qkv_parts[2]});
    b.output(b.one("Mul", {spread, gated}));
    const ir::Graph fused = fused_and_checked(b.graph, {random_float({1, 1 + 2 * c, 3, 11}, 14, -2.f, 2.f)});
    ASSERT_EQ(fused.nodes.size(), 1u) << "expand " << expand;
    EXPECT_EQ(ir::qualified_op_type(fused.nodes[0]), "kestrel.SeparableAttention");
  }
}

TEST(CpuFusions, AttentionWithItsProjectionBecomesLinearAttention) {
  const int64_t c = 8;
  GraphBuilder b;
  const int x = b.input("x", {1, c, 4, 9});
  const int qkv = b.one("Conv", {x, b.constant(random_float({1 + 2 * c, c, 1, 1}, 16, -0.3f, 0.3f)),
                                 b.constant(random_float({1 + 2 * c}, 17))});
  ir::Attributes axis1;
  axis1.set("axis", int64_t(1));
  const std::vector<int> parts = b.node("Split", {qkv, b.ints({1, c, c})}, axis1, 3);
  ir::Attributes last;
  last.set("axis", int64_t(-1));
  const int context = b.one("ReduceSum", {b.one("Mul", {b.one("Softmax", {parts[0]}, last), parts[1]}), b.ints({-1})});
  b.output(b.one("Mul", {b.one("Relu", {parts[2]}), context}));
  const ir::Graph fused = fused_and_checked(b.graph, {random_float({1, c, 4, 9}, 18, -2.f, 2.f)});
  ASSERT_EQ(fused.nodes.size(), 1u);
  EXPECT_EQ(ir::qualified_op_type(fused.nodes[0]), "kestrel.LinearAttention");
  EXPECT_EQ(fused.nodes[0].inputs.size(), 3u);
}

TEST(CpuFusions, OnlyTheCpuGetsKestrelOps) {
  GraphBuilder b;
  const int x = b.input("x", {1, 4, 6, 6});
  b.output(b.one("Relu", {b.one("Conv", {x, b.constant(random_float({4, 4, 1, 1}, 15))})}));
  ir::Graph generic = b.graph, cuda = b.graph;
  passes::optimize(generic);
  passes::optimize(cuda, DeviceType::kCUDA);
  EXPECT_EQ(count_ops(generic, "kestrel.FusedConv"), 0u);
  EXPECT_EQ(count_ops(cuda, "kestrel.FusedConv"), 0u);
  bool cpu_only_registered = false;
  for (const passes::Pass* pass : passes::registered_passes())
    if (pass->name == "fuse_conv_activation")
      cpu_only_registered = pass->devices == passes::device_bit(DeviceType::kCPU);
  EXPECT_TRUE(cpu_only_registered);
}

}  // namespace
}  // namespace kestrel::testing
