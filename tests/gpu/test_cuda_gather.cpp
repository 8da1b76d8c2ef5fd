// Gather on CUDA (movement.cu) against the CPU engine: an embedding lookup with input indices,
// constant indices that are not one run (the decomposition leaves those to the kernel), negative
// indices, axis 0 and a middle axis, int32 indices, int64 data.
#include <gtest/gtest.h>

#include "gpu/cuda_test_support.h"

namespace kestrel {
namespace {

TEST(CudaKernels, GatherAnyIndices) {
  KESTREL_REQUIRE_GPU();
  {  // embedding: a [50, 16] table, indices [2, 7] from the input
    GraphBuilder b;
    const int table = b.constant("table", random_tensor({50, 16}, 140));
    const int ids = b.input("ids", int64_tensor({2, 7}, {0, 49, 3, 3, -1, 17, 8, 1, 2, 48, 30, -50, 5, 6}));
    b.output(b.one("Gather", {table, ids}, attrs({{"axis", int64_t(0)}})));
    expect_matches_cpu(b, 0.0, 1e-3);
  }
  {  // a middle axis, constant indices out of order
    GraphBuilder b;
    const int x = b.input("x", random_tensor({3, 9, 4, 2}, 141));
    const int ids = b.constant("ids", int64_tensor({4}, {8, 0, -2, 4}));
    b.output(b.one("Gather", {x, ids}, attrs({{"axis", int64_t(1)}})));
    expect_matches_cpu(b, 0.0, 1e-3);
  }
  {  // int32 indices, a scalar index on the last axis
    GraphBuilder b;
    const int x = b.input("x", random_tensor({5, 6}, 142));
    Tensor id(DataType::kINT32, {});
    id.data<int32_t>()[0] = -3;
    // Not a constant: the decomposition into a Slice does not take it.
    const int idx = b.input("id", std::move(id));
    b.output(b.one("Gather", {x, idx}, attrs({{"axis", int64_t(1)}})));
    expect_matches_cpu(b, 0.0, 1e-3);
  }
}

}  // namespace
}  // namespace kestrel
