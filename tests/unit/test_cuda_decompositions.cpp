// The CUDA decompositions (src/passes/decompose_*.cpp)
// compute what the op computed: small graphs run node by node on the CPU reference kernels before
// and after passes::optimize(graph, CUDA) must agree, and the op is gone. Host only.
#include <gtest/gtest.h>

#include "passes/pass.h"
#include "support/graph_run.h"
#include "support/op_test.h"

namespace kestrel::testing {
namespace {

// Optimizes a copy for CUDA, checks it computes the same as the device-independent graph and no
// `op` is left; returns it.
ir::Graph decomposed_and_checked(const ir::Graph& original, const std::vector<Tensor>& inputs, const char* op) {
  ir::Graph plain = original;
  passes::optimize(plain);
  ir::Graph cuda = original;
  passes::optimize(cuda, DeviceType::kCUDA);
  cuda.sort();
  EXPECT_EQ(count_ops(cuda, op), 0u) << op << " is still there";
  const std::vector<Tensor> expected = run_graph(plain, inputs);
  const std::vector<Tensor> actual = run_graph(cuda, inputs);
  EXPECT_EQ(actual.size(), expected.size());
  for (size_t i = 0; i < actual.size(); ++i) EXPECT_TRUE(tensors_near(actual[i], expected[i], 1e-5, 1e-5));
  return cuda;
}

Tensor scalar_float(float v) { return make_float({}, {v}); }

TEST(CudaDecompositions, GemmEveryTransposeScaleAndBias) {
  struct Case {
    bool trans_a, trans_b;
    float alpha, beta;
    Shape c;  // empty: no C
    bool constant_b;
  };
  const Case cases[] = {
      {false, false, 1.f, 1.f, {7}, true},      // a classifier: Y = X W + b
      {false, true, 1.f, 1.f, {1, 7}, true},    // PyTorch's Linear export: transB
      {true, false, 0.5f, 2.f, {5, 7}, true},   // transA, both scales, full C
      {true, true, 1.f, 0.f, {7}, false},       // beta 0: C ignored; B an input
      {false, false, -1.5f, 1.f, {}, false},    // no C, alpha only
      {false, true, 1.f, 0.25f, {}, true},      // C absent with beta set
      {false, false, 1.f, 1.f, {1}, false},     // a broadcast scalar C
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(::testing::Message() << "transA " << c.trans_a << " transB " << c.trans_b << " alpha " << c.alpha
                                      << " beta " << c.beta << " C rank " << c.c.size());
    GraphBuilder b;
    const int64_t m = 5, k = 6, n = 7;
    std::vector<Tensor> inputs{random_float(c.trans_a ? Shape{k, m} : Shape{m, k}, 1)};
    const int a = b.input("a", inputs[0].shape());
    const Shape b_shape = c.trans_b ? Shape{n, k} : Shape{k, n};
    int bv;
    if (c.constant_b) {
      bv = b.constant(random_float(b_shape, 2));
    } else {
      inputs.push_back(random_float(b_shape, 2));
      bv = b.input("b", b_shape);
    }
    std::vector<int> ins{a, bv};
    if (!c.c.empty()) ins.push_back(b.constant(random_float(c.c, 3)));
    ir::Attributes attrs;
    attrs.set("transA", int64_t(c.trans_a));
    attrs.set("transB", int64_t(c.trans_b));
    attrs.set("alpha", c.alpha);
    attrs.set("beta", c.beta);
    b.output(b.one("Gemm", ins, attrs));
    const ir::Graph g = decomposed_and_checked(b.graph, inputs, "Gemm");
    EXPECT_EQ(count_ops(g, "MatMul"), 1u);
    if (c.constant_b) EXPECT_EQ(count_ops(g, "Transpose"), c.trans_a ? 1u : 0u) << "the weight's transpose is folded";
  }
}

// The CPU keeps Gemm (its kernels run it as it is).
TEST(CudaDecompositions, GemmStaysForTheCpu) {
  GraphBuilder b;
  const int a = b.input("a", {2, 3});
  b.output(b.one("Gemm", {a, b.constant(random_float({3, 4}, 4))}));
  ir::Graph g = b.graph;
  passes::optimize(g, DeviceType::kCPU);
  EXPECT_EQ(count_ops(g, "Gemm"), 1u);
}

TEST(CudaDecompositions, LayerNormalizationOverOneOrSeveralAxes) {
  struct Case {
    Shape x;
    int64_t axis;
    bool bias;
    float epsilon;
  };
  for (const Case& c : {Case{{2, 9, 16}, -1, true, 1e-5f}, Case{{4, 6}, 1, false, 1e-3f},
                        Case{{2, 3, 4, 5}, -2, true, 1e-6f}, Case{{3, 8}, 0, true, 1e-5f}}) {
    SCOPED_TRACE(::testing::Message() << "rank " << c.x.size() << " axis " << c.axis << " bias " << c.bias);
    GraphBuilder b;
    const std::vector<Tensor> inputs{random_float(c.x, 5, -3.f, 4.f)};
    const int x = b.input("x", c.x);
    const int64_t axis = c.axis < 0 ? c.axis + int64_t(c.x.size()) : c.axis;
    const Shape normalized(c.x.begin() + axis, c.x.end());
    std::vector<int> ins{x, b.constant(random_float(normalized, 6, 0.5f, 1.5f))};
    if (c.bias) ins.push_back(b.constant(random_float(normalized, 7)));
    ir::Attributes attrs;
    attrs.set("axis", c.axis);
    attrs.set("epsilon", c.epsilon);
    b.output(b.one("LayerNormalization", ins, attrs));
    const ir::Graph g = decomposed_and_checked(b.graph, inputs, "LayerNormalization");
    EXPECT_EQ(count_ops(g, "InstanceNormalization"), 1u);
  }
}

// A LayerNormalization whose Mean or InvStdDev output is read stays as it is.
TEST(CudaDecompositions, LayerNormalizationWithStatisticsOutputsStays) {
  GraphBuilder b;
  const int x = b.input("x", {2, 8});
  const std::vector<int> outs =
      b.node("LayerNormalization", {x, b.constant(random_float({8}, 8))}, {}, 2);
  b.output(outs[0]);
  b.output(outs[1]);
  ir::Graph g = b.graph;
  passes::optimize(g, DeviceType::kCUDA);
  EXPECT_EQ(count_ops(g, "LayerNormalization"), 1u);
}

TEST(CudaDecompositions, BatchNormalizationWithoutAConvolution) {
  for (const Shape& shape : {Shape{2, 6, 5, 4}, Shape{3, 6}, Shape{1, 6, 7}}) {
    SCOPED_TRACE(::testing::Message() << "rank " << shape.size());
    GraphBuilder b;
    const std::vector<Tensor> inputs{random_float(shape, 9, -2.f, 2.f)};
    const int x = b.input("x", shape);
    ir::Attributes attrs;
    attrs.set("epsilon", 1e-3f);
    b.output(b.one("BatchNormalization",
                   {x, b.constant(random_float({6}, 10, 0.5f, 2.f)), b.constant(random_float({6}, 11)),
                    b.constant(random_float({6}, 12)), b.constant(random_float({6}, 13, 0.1f, 3.f))},
                   attrs));
    const ir::Graph g = decomposed_and_checked(b.graph, inputs, "BatchNormalization");
    EXPECT_EQ(count_ops(g, "Mul") + count_ops(g, "Add"), 2u);
  }
}

TEST(CudaDecompositions, GatherOfAContiguousRun) {
  struct Case {
    Shape data;
    int64_t axis;
    Tensor indices;
  };
  const Case cases[] = {
      {{2, 197, 8}, 1, make_int64({}, {0})},          // ViT's class token
      {{4, 6}, -1, make_int64({}, {-1})},             // the last column, counted from the end
      {{5, 3, 2}, 0, make_int64({3}, {1, 2, 3})},     // a run of rows
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(::testing::Message() << "axis " << c.axis << " indices " << c.indices.numel());
    GraphBuilder b;
    const std::vector<Tensor> inputs{random_float(c.data, 14)};
    const int x = b.input("x", c.data);
    ir::Attributes attrs;
    attrs.set("axis", c.axis);
    b.output(b.one("Relu", {b.one("Gather", {x, b.constant(c.indices)}, attrs)}));
    const ir::Graph g = decomposed_and_checked(b.graph, inputs, "Gather");
    EXPECT_EQ(count_ops(g, "Slice"), 1u);
  }
  // An opset-11 model: Squeeze with its axes as an attribute.
  {
    GraphBuilder b;
    const std::vector<Tensor> inputs{random_float({3, 5}, 15)};
    const int x = b.input("x", {3, 5});
    ir::Attributes attrs;
    attrs.set("axis", int64_t(1));
    b.output(b.one("Gather", {x, b.constant(make_int64({}, {2}))}, attrs, 11));
    decomposed_and_checked(b.graph, inputs, "Gather");
  }
  // Indices that are not one run stay a Gather.
  GraphBuilder b;
  const int x = b.input("x", {4, 6});
  b.output(b.one("Gather", {x, b.constant(make_int64({2}, {2, 0}))}));
  ir::Graph g = b.graph;
  passes::optimize(g, DeviceType::kCUDA);
  EXPECT_EQ(count_ops(g, "Gather"), 1u);
}

TEST(CudaDecompositions, SumAndMeanOfOneToFourInputs) {
  for (const char* op : {"Sum", "Mean"}) {
    for (size_t count : {1u, 2u, 4u}) {
      SCOPED_TRACE(::testing::Message() << op << " of " << count);
      GraphBuilder b;
      const std::vector<Shape> shapes = {{2, 3, 4}, {3, 1}, {1, 4}, {2, 1, 4}};  // broadcasting
      std::vector<Tensor> inputs;
      std::vector<int> ins;
      for (size_t i = 0; i < count; ++i) {
        inputs.push_back(random_float(shapes[i], uint32_t(20 + i)));
        ins.push_back(b.input("x" + std::to_string(i), shapes[i]));
      }
      b.output(b.one(op, ins));
      decomposed_and_checked(b.graph, inputs, op);
    }
  }
}

TEST(CudaDecompositions, TileAlongOneOrSeveralAxes) {
  struct Case {
    Shape x;
    std::vector<int64_t> repeats;
  };
  for (const Case& c : {Case{{2, 3}, {1, 4}}, Case{{2, 3, 2}, {3, 1, 2}}, Case{{5}, {1}}, Case{{1, 2, 1, 3}, {2, 2, 3, 1}}}) {
    SCOPED_TRACE(::testing::Message() << "rank " << c.x.size());
    GraphBuilder b;
    const std::vector<Tensor> inputs{random_float(c.x, 30)};
    const int x = b.input("x", c.x);
    b.output(b.one("Relu", {b.one("Tile", {x, b.ints(c.repeats)})}));
    decomposed_and_checked(b.graph, inputs, "Tile");
  }
}

TEST(CudaDecompositions, GroupNormalizationPerGroupAndPerChannel) {
  for (int opset : {18, 21}) {
    for (int64_t groups : {1, 4, 8}) {
      SCOPED_TRACE(::testing::Message() << "opset " << opset << ", " << groups << " groups");
      GraphBuilder b;
      const Shape shape{2, 8, 5, 3};
      const std::vector<Tensor> inputs{random_float(shape, 40, -3.f, 5.f)};
      const int x = b.input("x", shape);
      const int64_t params = opset >= 21 ? 8 : groups;
      ir::Attributes attrs;
      attrs.set("num_groups", groups);
      attrs.set("epsilon", 1e-4f);
      b.output(b.one("GroupNormalization",
                     {x, b.constant(random_float({params}, 41, 0.5f, 1.5f)), b.constant(random_float({params}, 42))},
                     attrs, opset));
      b.graph.opset = opset;
      const ir::Graph g = decomposed_and_checked(b.graph, inputs, "GroupNormalization");
      EXPECT_EQ(count_ops(g, "InstanceNormalization"), 1u);
    }
  }
}

TEST(CudaDecompositions, PReluWithScalarAndPerChannelSlopes) {
  for (const Shape& slope : {Shape{1}, Shape{6, 1, 1}}) {
    SCOPED_TRACE(::testing::Message() << "slope rank " << slope.size());
    GraphBuilder b;
    const std::vector<Tensor> inputs{random_float({2, 6, 4, 5}, 50, -2.f, 2.f)};
    const int x = b.input("x", {2, 6, 4, 5});
    b.output(b.one("PRelu", {x, b.constant(random_float(slope, 51, 0.05f, 0.5f))}));
    decomposed_and_checked(b.graph, inputs, "PRelu");
  }
}

TEST(CudaDecompositions, ConvTransposeStridesPadsGroupsAndOutputShape) {
  struct Case {
    Shape x, w;
    std::vector<int64_t> strides, pads, dilations, output_padding, output_shape;
    int64_t group;
    const char* auto_pad;
    bool bias;
  };
  const Case cases[] = {
      {{1, 8, 5, 6}, {8, 4, 3, 3}, {2, 2}, {1, 1, 1, 1}, {1, 1}, {1, 1}, {}, 1, "NOTSET", true},   // the usual x2 upsampling
      {{2, 4, 4, 3}, {4, 6, 2, 2}, {2, 2}, {0, 0, 0, 0}, {1, 1}, {0, 0}, {}, 1, "NOTSET", false},  // U-Net's 2x2
      {{1, 6, 5, 5}, {6, 2, 3, 3}, {1, 1}, {1, 1, 1, 1}, {1, 1}, {0, 0}, {}, 3, "NOTSET", true},   // stride 1, groups
      {{1, 4, 4, 5}, {4, 3, 3, 2}, {3, 2}, {2, 0, 1, 1}, {2, 1}, {0, 1}, {}, 1, "NOTSET", true},   // dilation, odd pads
      {{1, 4, 3, 3}, {4, 2, 3, 3}, {2, 2}, {}, {1, 1}, {0, 0}, {8, 7}, 1, "NOTSET", true},           // output_shape
      {{1, 4, 3, 4}, {4, 2, 3, 3}, {2, 2}, {}, {1, 1}, {0, 0}, {}, 1, "SAME_UPPER", false},
      {{1, 2, 3, 3}, {2, 2, 5, 5}, {1, 1}, {3, 3, 3, 3}, {1, 1}, {0, 0}, {}, 1, "NOTSET", false},  // pads beyond k-1: crops
  };
  for (size_t i = 0; i < std::size(cases); ++i) {
    const Case& c = cases[i];
    SCOPED_TRACE(::testing::Message() << "case " << i);
    GraphBuilder b;
    const std::vector<Tensor> inputs{random_float(c.x, uint32_t(60 + i))};
    const int x = b.input("x", c.x);
    std::vector<int> ins{x, b.constant(random_float(c.w, uint32_t(70 + i)))};
    if (c.bias) ins.push_back(b.constant(random_float({c.w[1] * c.group}, uint32_t(80 + i))));
    ir::Attributes attrs;
    attrs.set("strides", c.strides);
    if (!c.pads.empty()) attrs.set("pads", c.pads);
    attrs.set("dilations", c.dilations);
    attrs.set("output_padding", c.output_padding);
    if (!c.output_shape.empty()) attrs.set("output_shape", c.output_shape);
    attrs.set("group", c.group);
    attrs.set("auto_pad", std::string(c.auto_pad));
    b.output(b.one("ConvTranspose", ins, attrs));
    const ir::Graph g = decomposed_and_checked(b.graph, inputs, "ConvTranspose");
    EXPECT_EQ(count_ops(g, "Conv"), 1u);
  }
}

}  // namespace
}  // namespace kestrel::testing
