// Resize on CUDA (resize.cu) against the CPU engine: the segmentation heads' bilinear upsampling
// (sizes, half_pixel and align_corners), nearest with each rounding mode, cubic with and without
// exclude_outside, downsampling by scales, tf_crop_and_resize with an roi; and a batch resize
// refused by name.
#include <gtest/gtest.h>

#include "gpu/cuda_test_support.h"

namespace kestrel {
namespace {

struct ResizeCase {
  Shape x;
  std::vector<float> scales;   // empty: sizes
  std::vector<int64_t> sizes;
  std::vector<float> roi;      // empty: none
  const char* mode;
  const char* transform;
  const char* nearest = "round_prefer_floor";
  int64_t exclude_outside = 0;
};

GraphBuilder resize_graph(const ResizeCase& c, uint32_t seed) {
  GraphBuilder b;
  const int x = b.input("x", random_tensor(c.x, seed, -2.f, 2.f));
  int roi = ir::kNoValue, scales = ir::kNoValue, sizes = ir::kNoValue;
  if (!c.roi.empty()) {
    Tensor r(DataType::kFLOAT, {int64_t(c.roi.size())});
    for (size_t i = 0; i < c.roi.size(); ++i) r.data<float>()[i] = c.roi[i];
    roi = b.constant("roi", r);
  }
  if (!c.scales.empty()) {
    Tensor s(DataType::kFLOAT, {4});
    for (int i = 0; i < 4; ++i) s.data<float>()[i] = c.scales[size_t(i)];
    scales = b.constant("scales", s);
  } else {
    sizes = b.constant("sizes", int64_tensor({4}, c.sizes));
  }
  ir::Attributes a;
  a.set("mode", std::string(c.mode));
  a.set("coordinate_transformation_mode", std::string(c.transform));
  a.set("nearest_mode", std::string(c.nearest));
  a.set("exclude_outside", c.exclude_outside);
  b.output(b.one("Resize", {x, roi, scales, sizes}, a));
  return b;
}

TEST(CudaKernels, ResizeModesAndCoordinateMaps) {
  KESTREL_REQUIRE_GPU();
  const ResizeCase cases[] = {
      {{1, 21, 28, 28}, {}, {1, 21, 224, 224}, {}, "linear", "half_pixel"},  // LR-ASPP's upsampling
      {{2, 4, 9, 7}, {}, {2, 4, 17, 20}, {}, "linear", "align_corners"},
      {{1, 3, 8, 8}, {1, 1, 2, 2}, {}, {}, "nearest", "asymmetric", "floor"},
      {{1, 3, 7, 5}, {1, 1, 1.5f, 2.5f}, {}, {}, "nearest", "half_pixel", "round_prefer_ceil"},
      {{1, 3, 7, 5}, {1, 1, 1.5f, 2.5f}, {}, {}, "nearest", "tf_half_pixel_for_nn", "ceil"},
      {{1, 2, 10, 12}, {1, 1, 0.5f, 0.75f}, {}, {}, "linear", "pytorch_half_pixel"},  // downsampling
      {{1, 2, 6, 6}, {}, {1, 2, 11, 13}, {}, "cubic", "half_pixel", "round_prefer_floor", 0},
      {{1, 2, 6, 6}, {}, {1, 2, 11, 13}, {}, "cubic", "half_pixel", "round_prefer_floor", 1},
      {{1, 2, 9, 9}, {}, {1, 2, 5, 6}, {0, 0, 0.2f, 0.1f, 1, 1, 0.9f, 1.3f}, "linear", "tf_crop_and_resize"},
  };
  for (size_t i = 0; i < std::size(cases); ++i) {
    SCOPED_TRACE(::testing::Message() << cases[i].mode << " " << cases[i].transform << " case " << i);
    expect_matches_cpu(resize_graph(cases[i], uint32_t(100 + i)), 1e-5, 1e-2);
  }
}

TEST(CudaKernels, ResizeOfTheBatchIsRefusedByName) {
  KESTREL_REQUIRE_GPU();
  const GraphBuilder b = resize_graph({{1, 2, 4, 4}, {2, 1, 1, 1}, {}, {}, "nearest", "asymmetric"}, 120);
  try {
    compile_for(b.g, DeviceType::kCUDA, false);
    ADD_FAILURE() << "a batch resize was accepted";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("Resize"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace kestrel
