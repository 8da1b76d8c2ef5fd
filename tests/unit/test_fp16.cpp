#include <cmath>
#include <gtest/gtest.h>

#include "core/fp16.h"

namespace kestrel {

TEST(Fp16, RoundTripsEveryFiniteHalf) {
  for (uint32_t bits = 0; bits < 0x10000; ++bits) {
    const Half h{uint16_t(bits)};
    const float f = half_to_float(h);
    if (std::isnan(f)) continue;
    EXPECT_EQ(float_to_half(f).bits, h.bits) << "bits " << bits;
  }
}

TEST(Fp16, RoundsToNearestEven) {
  EXPECT_EQ(float_to_half(1.0f).bits, 0x3c00);
  EXPECT_EQ(float_to_half(1.0f + 1.0f / 2048).bits, 0x3c00);          // halfway, rounds to even
  EXPECT_EQ(float_to_half(1.0f + 3.0f / 2048).bits, 0x3c02);          // halfway, rounds up to even
  EXPECT_EQ(float_to_half(65520.0f).bits, 0x7c00);                    // overflows to infinity
  EXPECT_EQ(float_to_half(std::ldexp(1.0f, -24)).bits, 0x0001);       // smallest subnormal
  EXPECT_EQ(float_to_half(std::ldexp(1.0f, -25)).bits, 0x0000);       // halfway to zero, even
  EXPECT_TRUE(std::isnan(half_to_float(float_to_half(NAN))));
}

}  // namespace kestrel
