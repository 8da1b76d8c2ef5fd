// Tests of MatMul (numpy matmul semantics: 1-D promotion, batch broadcasting, integer types) and
// Gemm (transposes, alpha/beta, every broadcast form of C). Expected values are hand-computed or
// come from the triple loop written here.
#include <cstring>
#include <string>
#include <vector>

#include "core/error.h"
#include "support/op_test.h"

namespace kestrel::testing {
namespace {

// C[i][j] = sum_p A[i][p] * B[p][j] for one pair of row-major matrices.
std::vector<float> naive_product(const float* a, const float* b, int m, int k, int n) {
  std::vector<float> c;
  for (int i = 0; i < m; ++i)
    for (int j = 0; j < n; ++j) {
      double sum = 0;
      for (int p = 0; p < k; ++p) sum += double(a[i * k + p]) * b[p * n + j];
      c.push_back(float(sum));
    }
  return c;
}

// ---- MatMul ---------------------------------------------------------------------------------------------

TEST(MatMul, TwoByTwoByHand) {
  const Tensor a = make_float({2, 3}, {1, 2, 3, 4, 5, 6});
  const Tensor b = make_float({3, 2}, {7, 8, 9, 10, 11, 12});
  EXPECT_TRUE(tensors_near(run_one(make_node("MatMul", 2), {&a, &b}), make_float({2, 2}, {58, 64, 139, 154})));
}

TEST(MatMul, OneDimensionalOperandsArePromotedAndTheirDimDropped) {
  const Tensor v = make_float({3}, {1, 2, 3});
  const Tensor m = make_float({3, 2}, {7, 8, 9, 10, 11, 12});
  const Tensor mt = make_float({2, 3}, {7, 9, 11, 8, 10, 12});
  EXPECT_TRUE(tensors_near(run_one(make_node("MatMul", 2), {&v, &m}), make_float({2}, {58, 64})));   // [3]x[3,2]
  EXPECT_TRUE(tensors_near(run_one(make_node("MatMul", 2), {&mt, &v}), make_float({2}, {58, 64})));  // [2,3]x[3]
  EXPECT_TRUE(tensors_near(run_one(make_node("MatMul", 2), {&v, &v}), make_float({}, {14})));        // dot product
  // A 1-D A against a batched B: [3] x [2, 3, 2] -> [2, 2].
  const Tensor batched = random_float({2, 3, 2}, 1);
  const Tensor y = run_one(make_node("MatMul", 2), {&v, &batched});
  ASSERT_EQ(y.shape(), (Shape{2, 2}));
  for (int bi = 0; bi < 2; ++bi)
    EXPECT_TRUE(tensors_near(make_float({2}, {y.data<float>()[bi * 2], y.data<float>()[bi * 2 + 1]}),
                             make_float({2}, naive_product(v.data<float>(), batched.data<float>() + bi * 6, 1, 3, 2))));
}

TEST(MatMul, BatchDimsBroadcast) {
  // [2, 1, 3, 4] x [5, 4, 6] -> [2, 5, 3, 6]: A's matrix i pairs with every B matrix j.
  const Tensor a = random_float({2, 1, 3, 4}, 2);
  const Tensor b = random_float({5, 4, 6}, 3);
  const Tensor y = run_one(make_node("MatMul", 2), {&a, &b});
  std::vector<float> expected;
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 5; ++j) {
      const std::vector<float> c = naive_product(a.data<float>() + i * 12, b.data<float>() + j * 24, 3, 4, 6);
      expected.insert(expected.end(), c.begin(), c.end());
    }
  EXPECT_TRUE(tensors_near(y, make_float({2, 5, 3, 6}, expected)));
  // And the other way round: [3, 4] broadcast against a batch of B.
  const Tensor a2 = random_float({3, 4}, 4);
  const Tensor y2 = run_one(make_node("MatMul", 2), {&a2, &b});
  ASSERT_EQ(y2.shape(), (Shape{5, 3, 6}));
  const std::vector<float> last = naive_product(a2.data<float>(), b.data<float>() + 4 * 24, 3, 4, 6);
  for (int i = 0; i < 18; ++i) EXPECT_NEAR(y2.data<float>()[4 * 18 + i], last[size_t(i)], 1e-5);
}

TEST(MatMul, IntegerTypes) {
  const Tensor a = make_int64({2, 2}, {1, -2, 3, 4});
  const Tensor b = make_int64({2, 1}, {5000000000, 6});
  const Tensor y = run_one(make_node("MatMul", 2), {&a, &b});
  ASSERT_EQ(y.dtype(), DataType::kINT64);
  EXPECT_EQ(to_ints(y), (std::vector<int64_t>{4999999988, 15000000024}));
  const Tensor a32 = make_int32({1, 3}, {1, 2, 3});
  const Tensor b32 = make_int32({3, 1}, {-4, 5, -6});
  const Tensor y32 = run_one(make_node("MatMul", 2), {&a32, &b32});
  ASSERT_EQ(y32.dtype(), DataType::kINT32);
  EXPECT_EQ(to_ints(y32), (std::vector<int64_t>{-12}));
}

TEST(MatMul, RejectsMismatchedShapesAndTypes) {
  const Tensor a = random_float({2, 3}, 5);
  const Tensor b = random_float({2, 3}, 6);
  EXPECT_THROW(run_one(make_node("MatMul", 2), {&a, &b}), Error);  // inner 3 vs 2
  const Tensor a3 = random_float({2, 2, 3}, 7), b3 = random_float({3, 3, 2}, 8);
  EXPECT_THROW(run_one(make_node("MatMul", 2), {&a3, &b3}), Error);  // batch 2 vs 3
  const Tensor ints = make_int64({3, 2}, {1, 2, 3, 4, 5, 6});
  EXPECT_THROW(run_one(make_node("MatMul", 2), {&a, &ints}), Error);
  const Tensor scalar = make_float({}, {1});
  EXPECT_THROW(run_one(make_node("MatMul", 2), {&scalar, &a}), Error);
}

// ---- Gemm -----------------------------------------------------------------------------------------------

TEST(Gemm, TransposesAlphaBetaAndMatrixC) {
  const Tensor a = random_float({3, 4}, 10);   // used as A (transA=0) or as A^T's source [K=3, M=4]
  const Tensor b = random_float({4, 5}, 11);
  const Tensor c = random_float({3, 5}, 12);
  ir::Node node = make_node("Gemm", 3);
  node.attrs.set("alpha", 0.5f);
  node.attrs.set("beta", -2.f);
  std::vector<float> expected = naive_product(a.data<float>(), b.data<float>(), 3, 4, 5);
  for (size_t i = 0; i < expected.size(); ++i) expected[i] = 0.5f * expected[i] - 2.f * c.data<float>()[i];
  EXPECT_TRUE(tensors_near(run_one(node, {&a, &b, &c}), make_float({3, 5}, expected)));

  // The same product from transposed operands.
  std::vector<float> at, bt;
  for (int p = 0; p < 4; ++p)
    for (int i = 0; i < 3; ++i) at.push_back(a.data<float>()[i * 4 + p]);
  for (int j = 0; j < 5; ++j)
    for (int p = 0; p < 4; ++p) bt.push_back(b.data<float>()[p * 5 + j]);
  const Tensor a_t = make_float({4, 3}, at), b_t = make_float({5, 4}, bt);
  node.attrs.set("transA", int64_t(1));
  node.attrs.set("transB", int64_t(1));
  EXPECT_TRUE(tensors_near(run_one(node, {&a_t, &b_t, &c}), make_float({3, 5}, expected)));
}

TEST(Gemm, CBroadcastsFromScalarRowColumnOrIsAbsent) {
  const Tensor a = make_float({2, 2}, {1, 2, 3, 4});
  const Tensor b = make_float({2, 2}, {1, 0, 0, 1});  // identity: A*B = A
  const Tensor scalar = make_float({}, {10});
  const Tensor single = make_float({1}, {10});
  const Tensor row = make_float({2}, {10, 20});
  const Tensor column = make_float({2, 1}, {10, 20});
  EXPECT_TRUE(tensors_near(run_one(make_node("Gemm", 3), {&a, &b, &scalar}), make_float({2, 2}, {11, 12, 13, 14})));
  EXPECT_TRUE(tensors_near(run_one(make_node("Gemm", 3), {&a, &b, &single}), make_float({2, 2}, {11, 12, 13, 14})));
  EXPECT_TRUE(tensors_near(run_one(make_node("Gemm", 3), {&a, &b, &row}), make_float({2, 2}, {11, 22, 13, 24})));
  EXPECT_TRUE(tensors_near(run_one(make_node("Gemm", 3), {&a, &b, &column}), make_float({2, 2}, {11, 12, 23, 24})));
  EXPECT_TRUE(tensors_near(run_one(make_node("Gemm", 2), {&a, &b}), make_float({2, 2}, {1, 2, 3, 4})));
  EXPECT_TRUE(tensors_near(run_one(make_node("Gemm", 3), {&a, &b, nullptr}), make_float({2, 2}, {1, 2, 3, 4})));
}

TEST(Gemm, RejectsBadShapes) {
  const Tensor a = random_float({2, 3}, 13), b = random_float({3, 4}, 14);
  const Tensor bad_c = random_float({3}, 15);
  EXPECT_THROW(run_one(make_node("Gemm", 3), {&a, &b, &bad_c}), Error);
  const Tensor a3 = random_float({1, 2, 3}, 16);
  EXPECT_THROW(run_one(make_node("Gemm", 2), {&a3, &b}), Error);
  ir::Node trans = make_node("Gemm", 2);
  trans.attrs.set("transB", int64_t(1));  // B^T is [4, 3]: inner 3 vs 4
  EXPECT_THROW(run_one(trans, {&a, &b}), Error);
}

}  // namespace
}  // namespace kestrel::testing
