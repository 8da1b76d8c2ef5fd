// Tests of Conv and ConvTranspose. Small cases are checked against hand-computed values (some
// from the ONNX operator documentation); random cases against naive per-output-element formulas
// written here, which bounds-check every tap (the kernels skip whole rows instead). ConvTranspose
// is also checked as the adjoint of Conv: <Conv(x), y> == <x, ConvTranspose(y)>.
#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "core/error.h"
#include "support/op_test.h"

namespace kestrel::testing {
namespace {

using Ints = std::vector<int64_t>;

std::vector<int64_t> unravel(int64_t flat, const Shape& shape) {
  std::vector<int64_t> index(shape.size());
  for (size_t i = shape.size(); i-- > 0;) {
    index[i] = flat % shape[i];
    flat /= shape[i];
  }
  return index;
}

int64_t ravel(const std::vector<int64_t>& index, const Shape& shape) {
  int64_t flat = 0;
  for (size_t i = 0; i < shape.size(); ++i) flat = flat * shape[i] + index[i];
  return flat;
}

struct ConvParams {
  Ints strides, dilations, pads_begin;
  int64_t group = 1;
};

// y[n, m, o] = b[m] + sum over c of m's group and taps k of x[n, c, o*s - p + k*d] * w[m, c - group start, k].
Tensor naive_conv(const Tensor& x, const Tensor& w, const Tensor* b, const ConvParams& p, const Shape& out_spatial) {
  const int64_t out_channels = w.dim(0), in_per_group = w.dim(1);
  const size_t spatial = out_spatial.size();
  Shape y_shape{x.dim(0), out_channels};
  y_shape.insert(y_shape.end(), out_spatial.begin(), out_spatial.end());
  Tensor y(DataType::kFLOAT, y_shape);
  const Shape kernel(w.shape().begin() + 2, w.shape().end());
  const int64_t taps = shape_numel(kernel);
  for (int64_t flat = 0; flat < y.numel(); ++flat) {
    const std::vector<int64_t> yi = unravel(flat, y_shape);
    const int64_t m = yi[1], group = m / (out_channels / p.group);
    double sum = b ? b->data<float>()[m] : 0.0;
    for (int64_t c = 0; c < in_per_group; ++c) {
      for (int64_t t = 0; t < taps; ++t) {
        const std::vector<int64_t> k = unravel(t, kernel);
        std::vector<int64_t> xi{yi[0], group * in_per_group + c};
        bool inside = true;
        for (size_t d = 0; d < spatial; ++d) {
          const int64_t pos = yi[d + 2] * p.strides[d] - p.pads_begin[d] + k[d] * p.dilations[d];
          inside = inside && pos >= 0 && pos < x.dim(int(d) + 2);
          xi.push_back(pos);
        }
        if (!inside) continue;
        std::vector<int64_t> wi{m, c};
        wi.insert(wi.end(), k.begin(), k.end());
        sum += double(x.data<float>()[ravel(xi, x.shape())]) * w.data<float>()[ravel(wi, w.shape())];
      }
    }
    y.data<float>()[flat] = float(sum);
  }
  return y;
}

// y[n, m, o] = b[m] + sum over c of m's group and taps k with o = i*s - p + k*d of x[n, c, i] * w[c, m mod M/group, k].
Tensor naive_conv_transpose(const Tensor& x, const Tensor& w, const Tensor* b, const ConvParams& p,
                            const Shape& out_spatial) {
  const int64_t in_channels = x.dim(1), out_per_group = w.dim(1);
  const int64_t out_channels = out_per_group * p.group, in_per_group = in_channels / p.group;
  const size_t spatial = out_spatial.size();
  Shape y_shape{x.dim(0), out_channels};
  y_shape.insert(y_shape.end(), out_spatial.begin(), out_spatial.end());
  Tensor y(DataType::kFLOAT, y_shape);
  const Shape kernel(w.shape().begin() + 2, w.shape().end());
  for (int64_t flat = 0; flat < y.numel(); ++flat) {
    const std::vector<int64_t> yi = unravel(flat, y_shape);
    const int64_t m = yi[1], group = m / out_per_group;
    double sum = b ? b->data<float>()[m] : 0.0;
    for (int64_t c = group * in_per_group; c < (group + 1) * in_per_group; ++c) {
      for (int64_t t = 0; t < shape_numel(kernel); ++t) {
        const std::vector<int64_t> k = unravel(t, kernel);
        std::vector<int64_t> xi{yi[0], c};
        bool inside = true;
        for (size_t d = 0; d < spatial; ++d) {
          const int64_t numerator = yi[d + 2] + p.pads_begin[d] - k[d] * p.dilations[d];
          const int64_t i = numerator / p.strides[d];
          inside = inside && numerator >= 0 && numerator % p.strides[d] == 0 && i < x.dim(int(d) + 2);
          xi.push_back(i);
        }
        if (!inside) continue;
        std::vector<int64_t> wi{c, m % out_per_group};
        wi.insert(wi.end(), k.begin(), k.end());
        sum += double(x.data<float>()[ravel(xi, x.shape())]) * w.data<float>()[ravel(wi, w.shape())];
      }
    }
    y.data<float>()[flat] = float(sum);
  }
  return y;
}

ir::Node conv_node(const std::string& op, int num_inputs, const Ints& strides, const Ints& dilations, const Ints& pads,
                   int64_t group = 1) {
  ir::Node node = make_node(op, num_inputs);
  if (!strides.empty()) node.attrs.set("strides", strides);
  if (!dilations.empty()) node.attrs.set("dilations", dilations);
  if (!pads.empty()) node.attrs.set("pads", pads);
  if (group != 1) node.attrs.set("group", group);
  return node;
}

std::vector<float> iota(int n) {
  std::vector<float> v(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) v[size_t(i)] = float(i);
  return v;
}

double dot(const Tensor& a, const Tensor& b) {
  double sum = 0;
  for (int64_t i = 0; i < a.numel(); ++i) sum += double(a.data<float>()[i]) * b.data<float>()[i];
  return sum;
}

// ---- Conv: hand-computed ------------------------------------------------------------------------------

TEST(Conv, DocumentationExampleWithAndWithoutPadding) {
  // The ONNX Conv example: a 5x5 ramp 0..24 and a 3x3 kernel of ones.
  const Tensor x = make_float({1, 1, 5, 5}, iota(25));
  const Tensor w = make_float({1, 1, 3, 3}, std::vector<float>(9, 1.f));
  const Tensor padded = run_one(conv_node("Conv", 2, {}, {}, {1, 1, 1, 1}), {&x, &w});
  EXPECT_TRUE(tensors_near(padded, make_float({1, 1, 5, 5}, {12, 21, 27, 33, 24, 33, 54, 63, 72, 51, 63, 99, 108,
                                                             117, 81, 93, 144, 153, 162, 111, 72, 111, 117, 123, 84})));
  const Tensor valid = run_one(make_node("Conv", 2), {&x, &w});
  EXPECT_TRUE(tensors_near(valid, make_float({1, 1, 3, 3}, {54, 63, 72, 99, 108, 117, 144, 153, 162})));
}

TEST(Conv, StridedAsymmetricPaddingAndBias) {
  // ONNX's conv_with_strides_and_asymmetric_padding: 7x5 ramp, stride 2, pads [1,0,1,0], plus a bias.
  const Tensor x = make_float({1, 1, 7, 5}, iota(35));
  const Tensor w = make_float({1, 1, 3, 3}, std::vector<float>(9, 1.f));
  const Tensor b = make_float({1}, {0.5f});
  const Tensor y = run_one(conv_node("Conv", 3, {2, 2}, {}, {1, 0, 1, 0}), {&x, &w, &b});
  EXPECT_TRUE(tensors_near(y, make_float({1, 1, 4, 2}, {21.5f, 33.5f, 99.5f, 117.5f, 189.5f, 207.5f, 171.5f,
                                                        183.5f})));
}

TEST(Conv, OneDimensionalByHand) {
  // x = [1, 2, 3, 4], w = [1, 0, -1], dilation 2 spans 5 taps: pads 2 each side.
  // y[o] = x[o-2] - x[o+2]: [-3, -4, 1, 2].
  const Tensor x = make_float({1, 1, 4}, {1, 2, 3, 4});
  const Tensor w = make_float({1, 1, 3}, {1, 0, -1});
  const Tensor y = run_one(conv_node("Conv", 2, {}, {2}, {2, 2}), {&x, &w});
  EXPECT_TRUE(tensors_near(y, make_float({1, 1, 4}, {-3, -4, 1, 2})));
}

// ---- Conv: against the naive formula ------------------------------------------------------------------

TEST(Conv, TwoDimsStridesDilationsPadsAgainstNaive) {
  const Tensor x = random_float({2, 3, 9, 11}, 1);
  const Tensor w = random_float({4, 3, 3, 2}, 2);
  const Tensor b = random_float({4}, 3);
  const ConvParams p{{2, 3}, {2, 1}, {1, 2}, 1};
  const Tensor y = run_one(conv_node("Conv", 3, p.strides, p.dilations, {1, 2, 0, 1}), {&x, &w, &b});
  // H: (9 + 1 + 0 - 5) / 2 + 1 = 3; W: (11 + 2 + 1 - 2) / 3 + 1 = 5.
  EXPECT_TRUE(tensors_near(y, naive_conv(x, w, &b, p, {3, 5}), 1e-5, 1e-4));
}

TEST(Conv, GroupedAgainstNaive) {
  const Tensor x = random_float({1, 6, 7, 7}, 4);
  const Tensor w = random_float({4, 3, 3, 3}, 5);  // 2 groups of 3 input and 2 output channels
  const ConvParams p{{1, 1}, {1, 1}, {1, 1}, 2};
  const Tensor y = run_one(conv_node("Conv", 2, {}, {}, {1, 1, 1, 1}, 2), {&x, &w});
  EXPECT_TRUE(tensors_near(y, naive_conv(x, w, nullptr, p, {7, 7}), 1e-5, 1e-4));
}

TEST(Conv, DepthwiseWithChannelMultiplierAgainstNaive) {
  // group == C with two output channels per input channel (MobileNet's depthwise, SMAT's unfolding).
  const Tensor x = random_float({1, 4, 8, 6}, 6);
  const Tensor w = random_float({8, 1, 3, 3}, 7);
  const Tensor b = random_float({8}, 8);
  const ConvParams p{{2, 2}, {1, 1}, {1, 1}, 4};
  const Tensor y = run_one(conv_node("Conv", 3, {2, 2}, {}, {1, 1, 1, 1}, 4), {&x, &w, &b});
  EXPECT_TRUE(tensors_near(y, naive_conv(x, w, &b, p, {4, 3}), 1e-5, 1e-4));
}

TEST(Conv, OneAndThreeDimsAgainstNaive) {
  const Tensor x1 = random_float({2, 3, 13}, 9);
  const Tensor w1 = random_float({5, 3, 4}, 10);
  const ConvParams p1{{3}, {1}, {2}, 1};
  EXPECT_TRUE(tensors_near(run_one(conv_node("Conv", 2, {3}, {}, {2, 1}), {&x1, &w1}),
                           naive_conv(x1, w1, nullptr, p1, {5}), 1e-5, 1e-4));

  const Tensor x3 = random_float({1, 2, 5, 6, 7}, 11);
  const Tensor w3 = random_float({3, 2, 3, 2, 3}, 12);
  const Tensor b3 = random_float({3}, 13);
  const ConvParams p3{{1, 2, 2}, {2, 1, 1}, {1, 0, 1}, 1};
  // D: (5 + 2 - 5) + 1 = 3; H: (6 + 1 - 2) / 2 + 1 = 3; W: (7 + 2 - 3) / 2 + 1 = 4.
  EXPECT_TRUE(tensors_near(run_one(conv_node("Conv", 3, p3.strides, p3.dilations, {1, 0, 1, 1, 1, 1}), {&x3, &w3, &b3}),
                           naive_conv(x3, w3, &b3, p3, {3, 3, 4}), 1e-5, 1e-4));
}

TEST(Conv, RandomGeometriesAgainstNaive) {
  // Ranks 1-3 with random kernels, strides, dilations, pads (up to larger than the kernel) and
  // groups, including outputs of a single element and rows that padding covers entirely.
  std::mt19937 rng(2024);
  auto pick = [&](int lo, int hi) { return int64_t(std::uniform_int_distribution<int>(lo, hi)(rng)); };
  int checked = 0;
  for (int trial = 0; trial < 60; ++trial) {
    const size_t spatial = size_t(pick(1, 3));
    const int64_t group = pick(1, 3), in_per_group = pick(1, 2), out_per_group = pick(1, 2);
    Shape x_shape{pick(1, 2), group * in_per_group}, w_shape{group * out_per_group, in_per_group};
    ConvParams p{{}, {}, {}, group};
    Ints pads_end;
    Shape out_spatial;
    bool fits = true;
    for (size_t d = 0; d < spatial; ++d) {
      const int64_t in = pick(1, 7), k = pick(1, 3);
      x_shape.push_back(in);
      w_shape.push_back(k);
      p.strides.push_back(pick(1, 3));
      p.dilations.push_back(pick(1, 2));
      p.pads_begin.push_back(pick(0, 3));
      pads_end.push_back(pick(0, 3));
      const int64_t span = in + p.pads_begin[d] + pads_end[d] - ((k - 1) * p.dilations[d] + 1);
      fits = fits && span >= 0;
      out_spatial.push_back(span >= 0 ? span / p.strides[d] + 1 : 0);
    }
    Ints pads = p.pads_begin;
    pads.insert(pads.end(), pads_end.begin(), pads_end.end());
    const Tensor x = random_float(x_shape, uint32_t(100 + trial));
    const Tensor w = random_float(w_shape, uint32_t(200 + trial));
    const Tensor b = random_float({w_shape[0]}, uint32_t(300 + trial));
    const ir::Node node = conv_node("Conv", 3, p.strides, p.dilations, pads, group);
    if (!fits) {
      EXPECT_THROW(run_one(node, {&x, &w, &b}), Error) << "trial " << trial;
      continue;
    }
    EXPECT_TRUE(tensors_near(run_one(node, {&x, &w, &b}), naive_conv(x, w, &b, p, out_spatial), 1e-5, 1e-4))
        << "trial " << trial << ": X " << shape_str(x_shape) << " W " << shape_str(w_shape);
    ++checked;
  }
  EXPECT_GT(checked, 30);
}

TEST(Conv, AutoPadSameUpperAndLowerSplitTheOddPadding) {
  // 6 wide, stride 2, kernel 4: output 3, total padding (3-1)*2 + 4 - 6 = 2 -> 1/1; kernel 3: 1 -> 0/1 or 1/0.
  const Tensor x = random_float({1, 2, 6, 6}, 14);
  const Tensor w = random_float({2, 2, 3, 3}, 15);
  for (const std::string mode : {"SAME_UPPER", "SAME_LOWER"}) {
    ir::Node node = conv_node("Conv", 2, {2, 2}, {}, {});
    node.attrs.set("auto_pad", mode);
    const int64_t begin = mode == "SAME_UPPER" ? 0 : 1;
    const ConvParams p{{2, 2}, {1, 1}, {begin, begin}, 1};
    EXPECT_TRUE(tensors_near(run_one(node, {&x, &w}), naive_conv(x, w, nullptr, p, {3, 3}), 1e-5, 1e-4)) << mode;
  }
  // The two really differ here.
  ir::Node upper = conv_node("Conv", 2, {2, 2}, {}, {});
  upper.attrs.set("auto_pad", std::string("SAME_UPPER"));
  ir::Node lower = upper;
  lower.attrs.set("auto_pad", std::string("SAME_LOWER"));
  EXPECT_FALSE(tensors_near(run_one(upper, {&x, &w}), run_one(lower, {&x, &w})));
}

TEST(Conv, AutoPadValidIgnoresPadsAndSameWithDilation) {
  const Tensor x = random_float({1, 1, 7, 7}, 16);
  const Tensor w = random_float({1, 1, 3, 3}, 17);
  ir::Node valid = conv_node("Conv", 2, {2, 2}, {}, {1, 1, 1, 1});
  valid.attrs.set("auto_pad", std::string("VALID"));
  EXPECT_TRUE(tensors_near(run_one(valid, {&x, &w}), naive_conv(x, w, nullptr, {{2, 2}, {1, 1}, {0, 0}, 1}, {3, 3})));
  // SAME with dilation 2: dilated kernel 5, total padding 4 -> 2 each side, output 7x7.
  ir::Node same = conv_node("Conv", 2, {}, {2, 2}, {});
  same.attrs.set("auto_pad", std::string("SAME_UPPER"));
  EXPECT_TRUE(tensors_near(run_one(same, {&x, &w}), naive_conv(x, w, nullptr, {{1, 1}, {2, 2}, {2, 2}, 1}, {7, 7})));
}

TEST(Conv, KernelShapeAttributeIsOptionalButMustMatch) {
  const Tensor x = random_float({1, 1, 5, 5}, 18);
  const Tensor w = random_float({1, 1, 3, 3}, 19);
  ir::Node node = make_node("Conv", 2);
  node.attrs.set("kernel_shape", Ints{3, 3});
  EXPECT_EQ(run_one(node, {&x, &w}).shape(), (Shape{1, 1, 3, 3}));
  node.attrs.set("kernel_shape", Ints{2, 2});
  EXPECT_THROW(run_one(node, {&x, &w}), Error);
}

TEST(Conv, RejectsInconsistentInputsAndAttributes) {
  const Tensor x = random_float({1, 4, 5, 5}, 20);
  const Tensor w3 = random_float({2, 3, 3, 3}, 21);
  EXPECT_THROW(run_one(make_node("Conv", 2), {&x, &w3}), Error);  // 3 input channels in W, 4 in X
  const Tensor w = random_float({3, 2, 3, 3}, 22);
  EXPECT_THROW(run_one(conv_node("Conv", 2, {}, {}, {}, 2), {&x, &w}), Error);  // 3 outputs, 2 groups
  const Tensor w_ok = random_float({2, 4, 3, 3}, 23);
  const Tensor bad_bias = random_float({3}, 24);
  EXPECT_THROW(run_one(make_node("Conv", 3), {&x, &w_ok, &bad_bias}), Error);
  EXPECT_THROW(run_one(conv_node("Conv", 2, {0, 1}, {}, {}), {&x, &w_ok}), Error);        // zero stride
  EXPECT_THROW(run_one(conv_node("Conv", 2, {1, 1, 1}, {}, {}), {&x, &w_ok}), Error);     // stride rank
  EXPECT_THROW(run_one(conv_node("Conv", 2, {}, {}, {-1, 0, 0, 0}), {&x, &w_ok}), Error);  // negative pad
  const Tensor big_w = random_float({2, 4, 7, 7}, 25);
  EXPECT_THROW(run_one(make_node("Conv", 2), {&x, &big_w}), Error);  // kernel larger than the input
  ir::Node bad_mode = make_node("Conv", 2);
  bad_mode.attrs.set("auto_pad", std::string("SAME"));
  EXPECT_THROW(run_one(bad_mode, {&x, &w_ok}), Error);
  const Tensor ints = make_int64({1, 1, 2, 2}, {1, 2, 3, 4});
  const Tensor int_w = make_int64({1, 1, 1, 1}, {1});
  EXPECT_THROW(run_one(make_node("Conv", 2), {&ints, &int_w}), Error);
}

// ---- ConvTranspose --------------------------------------------------------------------------------------

TEST(ConvTranspose, OneDimensionalByHand) {
  // Each input element stamps the kernel at i*stride: [1,2,3] * [1,1,1] with stride 1 and 2.
  const Tensor x = make_float({1, 1, 3}, {1, 2, 3});
  const Tensor w = make_float({1, 1, 3}, {1, 1, 1});
  EXPECT_TRUE(tensors_near(run_one(make_node("ConvTranspose", 2), {&x, &w}), make_float({1, 1, 5}, {1, 3, 6, 5, 3})));
  EXPECT_TRUE(tensors_near(run_one(conv_node("ConvTranspose", 2, {2}, {}, {}), {&x, &w}),
                           make_float({1, 1, 7}, {1, 1, 3, 2, 5, 3, 3})));
  // pads crop the full result: [1,1] removes one element from each end.
  EXPECT_TRUE(tensors_near(run_one(conv_node("ConvTranspose", 2, {2}, {}, {1, 1}), {&x, &w}),
                           make_float({1, 1, 5}, {1, 3, 2, 5, 3})));
}

TEST(ConvTranspose, TwoDimsGroupsStridesDilationsPaddingAgainstNaive) {
  const Tensor x = random_float({2, 4, 4, 5}, 30);
  const Tensor w = random_float({4, 3, 3, 2}, 31);  // 2 groups: 6 output channels
  const Tensor b = random_float({6}, 32);
  const ConvParams p{{2, 3}, {2, 1}, {1, 0}, 2};
  ir::Node node = conv_node("ConvTranspose", 3, p.strides, p.dilations, {1, 0, 2, 1}, 2);
  node.attrs.set("output_padding", Ints{1, 2});
  // H: 2*3 + 1 + 5 - 1 - 2 = 9; W: 3*4 + 2 + 2 - 0 - 1 = 15.
  const Tensor y = run_one(node, {&x, &w, &b});
  EXPECT_TRUE(tensors_near(y, naive_conv_transpose(x, w, &b, p, {9, 15}), 1e-5, 1e-4));
}

TEST(ConvTranspose, ThreeDimsAgainstNaive) {
  const Tensor x = random_float({1, 2, 3, 4, 2}, 33);
  const Tensor w = random_float({2, 3, 2, 3, 3}, 34);
  const ConvParams p{{2, 1, 2}, {1, 1, 1}, {0, 1, 1}, 1};
  const Tensor y = run_one(conv_node("ConvTranspose", 2, p.strides, {}, {0, 1, 1, 0, 1, 0}), {&x, &w});
  // D: 2*2 + 2 = 6; H: 3 + 3 - 2 = 4; W: 2 + 3 - 1 = 4.
  EXPECT_TRUE(tensors_near(y, naive_conv_transpose(x, w, nullptr, p, {6, 4, 4}), 1e-5, 1e-4));
}

TEST(ConvTranspose, RandomGeometriesAgainstNaive) {
  std::mt19937 rng(7);
  auto pick = [&](int lo, int hi) { return int64_t(std::uniform_int_distribution<int>(lo, hi)(rng)); };
  for (int trial = 0; trial < 40; ++trial) {
    const size_t spatial = size_t(pick(1, 3));
    const int64_t group = pick(1, 2), in_per_group = pick(1, 2), out_per_group = pick(1, 2);
    Shape x_shape{pick(1, 2), group * in_per_group}, w_shape{group * in_per_group, out_per_group};
    ConvParams p{{}, {}, {}, group};
    Ints pads_end, output_padding;
    Shape out_spatial;
    for (size_t d = 0; d < spatial; ++d) {
      const int64_t in = pick(1, 4), k = pick(1, 3);
      x_shape.push_back(in);
      w_shape.push_back(k);
      p.strides.push_back(pick(1, 3));
      p.dilations.push_back(pick(1, 2));
      output_padding.push_back(pick(0, std::max(p.strides[d], p.dilations[d]) - 1));
      const int64_t full = p.strides[d] * (in - 1) + output_padding[d] + (k - 1) * p.dilations[d] + 1;
      p.pads_begin.push_back(pick(0, int(std::min<int64_t>(2, full - 1))));
      pads_end.push_back(pick(0, int(std::min<int64_t>(2, full - 1 - p.pads_begin[d]))));
      out_spatial.push_back(full - p.pads_begin[d] - pads_end[d]);
    }
    Ints pads = p.pads_begin;
    pads.insert(pads.end(), pads_end.begin(), pads_end.end());
    const Tensor x = random_float(x_shape, uint32_t(400 + trial));
    const Tensor w = random_float(w_shape, uint32_t(500 + trial));
    const Tensor b = random_float({group * out_per_group}, uint32_t(600 + trial));
    ir::Node node = conv_node("ConvTranspose", 3, p.strides, p.dilations, pads, group);
    node.attrs.set("output_padding", output_padding);
    EXPECT_TRUE(tensors_near(run_one(node, {&x, &w, &b}), naive_conv_transpose(x, w, &b, p, out_spatial), 1e-5, 1e-4))
        << "trial " << trial << ": X " << shape_str(x_shape) << " W " << shape_str(w_shape);
  }
}

TEST(ConvTranspose, OutputShapeDerivesThePadding) {
  const Tensor x = random_float({1, 1, 3, 3}, 35);
  const Tensor w = random_float({1, 2, 3, 3}, 36);
  // Natural size 2*2 + 3 = 7. output_shape 6 -> total 1, the odd element at the beginning (spec's
  // "else" branch); 8 -> total -1 -> the extra element at the end, like output_padding 1.
  ir::Node node = conv_node("ConvTranspose", 2, {2, 2}, {}, {});
  node.attrs.set("output_shape", Ints{6, 8});
  const Tensor y = run_one(node, {&x, &w});
  EXPECT_EQ(y.shape(), (Shape{1, 2, 6, 8}));
  const ConvParams p{{2, 2}, {1, 1}, {1, 0}, 1};
  EXPECT_TRUE(tensors_near(y, naive_conv_transpose(x, w, nullptr, p, {6, 8})));
  // The full output shape [N, M, H, W] is accepted too.
  node.attrs.set("output_shape", Ints{1, 2, 6, 8});
  EXPECT_TRUE(tensors_near(run_one(node, {&x, &w}), y));
}

TEST(ConvTranspose, AutoPadSameMakesInputTimesStride) {
  const Tensor x = random_float({1, 1, 3, 3}, 37);
  const Tensor w = random_float({1, 2, 3, 3}, 38);
  // Natural size 7, target 6: total 1; SAME_UPPER pads the end, SAME_LOWER the beginning.
  for (const std::string mode : {"SAME_UPPER", "SAME_LOWER"}) {
    ir::Node node = conv_node("ConvTranspose", 2, {2, 2}, {}, {});
    node.attrs.set("auto_pad", mode);
    const int64_t begin = mode == "SAME_UPPER" ? 0 : 1;
    EXPECT_TRUE(tensors_near(run_one(node, {&x, &w}),
                             naive_conv_transpose(x, w, nullptr, {{2, 2}, {1, 1}, {begin, begin}, 1}, {6, 6})))
        << mode;
  }
}

TEST(ConvTranspose, IsTheAdjointOfConv) {
  // For every geometry, <Conv(x, w), y> == <x, ConvTranspose(y, w)> (no bias), groups included.
  const Tensor x = random_float({1, 4, 9, 8}, 40);
  const Tensor w = random_float({6, 2, 3, 2}, 41);  // Conv: 2 groups, 4 -> 6 channels
  const Ints strides{2, 3}, dilations{1, 2}, pads{1, 2, 0, 1};
  const Tensor conv = run_one(conv_node("Conv", 2, strides, dilations, pads, 2), {&x, &w});
  const Tensor y = random_float(conv.shape(), 42);
  // Conv's weight [6, 2, kh, kw] read as ConvTranspose's [C=6, M/group=2, kh, kw] maps 6 -> 4 channels.
  ir::Node transpose = conv_node("ConvTranspose", 2, strides, dilations, pads, 2);
  // output_padding makes the transpose's output exactly X's size (the conv dropped a remainder):
  // H 2*3 + 3 - 1 = 8 (+1), W 3*2 + 3 - 3 = 6 (+2).
  transpose.attrs.set("output_padding", Ints{1, 2});
  const Tensor back = run_one(transpose, {&y, &w});
  ASSERT_EQ(back.shape(), x.shape());
  EXPECT_NEAR(dot(conv, y), dot(x, back), 1e-4 * std::fabs(dot(conv, y)) + 1e-4);
}

TEST(ConvTranspose, RejectsInconsistentInputs) {
  const Tensor x = random_float({1, 4, 3, 3}, 43);
  const Tensor w = random_float({3, 2, 3, 3}, 44);
  EXPECT_THROW(run_one(make_node("ConvTranspose", 2), {&x, &w}), Error);  // W's first dim must be C
  const Tensor w_ok = random_float({4, 2, 3, 3}, 45);
  EXPECT_THROW(run_one(conv_node("ConvTranspose", 2, {}, {}, {}, 3), {&x, &w_ok}), Error);  // 4 % 3
  ir::Node bad_padding = conv_node("ConvTranspose", 2, {2, 2}, {}, {});
  bad_padding.attrs.set("output_padding", Ints{2, 0});  // not smaller than the stride
  EXPECT_THROW(run_one(bad_padding, {&x, &w_ok}), Error);
  ir::Node bad_shape = make_node("ConvTranspose", 2);
  bad_shape.attrs.set("output_shape", Ints{5});
  EXPECT_THROW(run_one(bad_shape, {&x, &w_ok}), Error);
  const Tensor bad_bias = random_float({4}, 46);  // 2 output channels
  EXPECT_THROW(run_one(make_node("ConvTranspose", 3), {&x, &w_ok, &bad_bias}), Error);
}

}  // namespace
}  // namespace kestrel::testing
