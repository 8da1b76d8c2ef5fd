// Shared oneDNN plumbing for the fast CPU kernels (only .cpp files of src/backend/cpu/fast/
// include this: oneDNN is a private dependency of the library).
#pragma once
#include <string>
#include <vector>

#include <dnnl.hpp>

#include "backend/cpu/fast/kernel.h"

namespace kestrel::cpu::fast {

// The process-wide CPU engine (stateless; primitives and memories refer to it).
dnnl::engine& onednn_engine();

// A float32 descriptor for a plain or channel-blocked 4-D value, or a plain one of any rank.
dnnl::memory::desc float_desc(const Shape& shape, Layout layout);
// The same for another element type (int8 values are blocked the same way: nChw16c).
dnnl::memory::desc typed_desc(const Shape& shape, Layout layout, dnnl::memory::data_type type);

// Offsets of consecutive scratch regions, each 64-byte aligned.
class ScratchLayout {
 public:
  size_t add(size_t bytes) {
    const size_t offset = total_;
    total_ += (bytes + 63) / 64 * 64;
    return offset;
  }
  size_t total() const { return total_; }

 private:
  size_t total_ = 0;
};

// Runs a primitive with a prepared argument array (the C API: no allocation per call).
void onednn_execute(const dnnl::stream& stream, const dnnl::primitive& primitive,
                    const std::vector<dnnl_exec_arg_t>& args);

inline void* at_offset(void* base, size_t offset) { return static_cast<char*>(base) + offset; }

}  // namespace kestrel::cpu::fast
