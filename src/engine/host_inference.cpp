#include "engine/host_inference.h"

#include <algorithm>

#include "core/error.h"
#include "core/tensor.h"

namespace kestrel::engine {

NamedTensors infer_on_host(const Engine& engine, ExecutionContext& context, const NamedTensors& feed) {
  for (const TensorDesc& input : engine.inputs()) {
    auto it = std::find_if(feed.begin(), feed.end(), [&](const auto& kv) { return kv.first == input.name; });
    KESTREL_CHECK(it != feed.end(), "no array named '{}' for the model input of that name", input.name);
    const HostTensor& t = it->second;
    KESTREL_CHECK(t.dtype == input.dtype, "input '{}' must be {}, the given array is {}", input.name,
                  to_string(input.dtype), to_string(t.dtype));
    KESTREL_CHECK(t.shape == input.shape, "input '{}' must have shape {}, the given array has {}", input.name,
                  shape_str(input.shape), shape_str(t.shape));
    KESTREL_CHECK(t.bytes.size() == size_t(t.numel()) * element_size(t.dtype), "input '{}' holds the wrong number of bytes",
                  input.name);
    Status bound = context.set_tensor_address(input.name, const_cast<uint8_t*>(t.bytes.data()));
    KESTREL_CHECK(bound.ok(), "{}", bound.message());
  }
  NamedTensors outputs;
  for (const TensorDesc& output : engine.outputs()) {
    HostTensor t;
    t.dtype = output.dtype;
    t.shape = output.shape;
    t.bytes.resize(size_t(t.numel()) * element_size(t.dtype));
    outputs.emplace_back(output.name, std::move(t));
  }
  for (auto& [name, t] : outputs) {
    Status bound = context.set_tensor_address(name, t.bytes.data());
    KESTREL_CHECK(bound.ok(), "{}", bound.message());
  }
  Status ran = context.infer();
  KESTREL_CHECK(ran.ok(), "{}", ran.message());
  return outputs;
}

}  // namespace kestrel::engine
