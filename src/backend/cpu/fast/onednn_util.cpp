#include "backend/cpu/fast/onednn_util.h"

#include <fmt/format.h>

#include "backend/cpu/fast/runtime_info.h"
#include "core/error.h"

namespace kestrel::cpu::fast {

dnnl::engine& onednn_engine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

std::string onednn_runtime_version() {
  const dnnl_version_t* v = dnnl_version();
  return fmt::format("{}.{}.{}", v->major, v->minor, v->patch);
}

void onednn_execute(const dnnl::stream& stream, const dnnl::primitive& primitive,
                    const std::vector<dnnl_exec_arg_t>& args) {
  const dnnl_status_t status = dnnl_primitive_execute(primitive.get(), stream.get(), int(args.size()), args.data());
  KESTREL_CHECK(status == dnnl_success, "oneDNN failed to run a primitive (status {})", int(status));
}

dnnl::memory::desc float_desc(const Shape& shape, Layout layout) {
  return typed_desc(shape, layout, dnnl::memory::data_type::f32);
}

dnnl::memory::desc typed_desc(const Shape& shape, Layout layout, dnnl::memory::data_type type) {
  using tag = dnnl::memory::format_tag;
  dnnl::memory::dims dims(shape.begin(), shape.end());
  if (layout == Layout::kBlocked16) {
    KESTREL_CHECK(shape.size() == 4, "a blocked layout needs a 4-D value, got {}", shape_str(shape));
    return dnnl::memory::desc(dims, type, tag::nChw16c);
  }
  if (layout == Layout::kChannelsLast) {
    KESTREL_CHECK(shape.size() == 4, "a channels-last layout needs a 4-D value, got {}", shape_str(shape));
    return dnnl::memory::desc(dims, type, tag::nhwc);
  }
  static const tag plain[] = {tag::undef, tag::a, tag::ab, tag::abc, tag::abcd, tag::abcde, tag::abcdef};
  KESTREL_CHECK(shape.size() >= 1 && shape.size() <= 6, "no oneDNN layout for rank {}", shape.size());
  return dnnl::memory::desc(dims, type, plain[shape.size()]);
}

}  // namespace kestrel::cpu::fast
