// Helpers for operator tests: build a node, run it through shape inference and the CPU
// reference kernel, compare tensors.
#pragma once
#include <initializer_list>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "backend/cpu/reference/kernel_registry.h"
#include "core/tensor.h"
#include "ir/graph.h"

namespace kestrel::testing {

Tensor make_float(Shape shape, std::vector<float> values);
Tensor make_int64(Shape shape, std::vector<int64_t> values);
Tensor make_int32(Shape shape, std::vector<int32_t> values);
Tensor make_bool(Shape shape, std::vector<bool> values);
// Deterministic pseudo-random floats in [lo, hi).
Tensor random_float(Shape shape, uint32_t seed, float lo = -1.f, float hi = 1.f);

ir::Node make_node(const std::string& op_type, int num_inputs, int num_outputs = 1, int opset = 17);

// Runs the node on the given inputs (nullptr = absent optional input).
std::vector<Tensor> run_reference(const ir::Node& node, const std::vector<const Tensor*>& inputs);
// The first output of run_reference.
Tensor run_one(const ir::Node& node, const std::vector<const Tensor*>& inputs);

// Runs the node (shape inference and kernel) expecting an Error whose message mentions `fragment`.
void expect_error_mentioning(const ir::Node& node, const std::vector<const Tensor*>& inputs,
                             const std::string& fragment);

std::vector<float> to_floats(const Tensor& t);
std::vector<int64_t> to_ints(const Tensor& t);

// Asserts equal shapes and |a-b| <= atol + rtol*|b| elementwise.
::testing::AssertionResult tensors_near(const Tensor& actual, const Tensor& expected, double atol = 1e-5,
                                        double rtol = 1e-5);

}  // namespace kestrel::testing
