// NetworkDefinition and OnnxParser.
#include <filesystem>

#include "core/file_io.h"
#include "engine/api_guard.h"
#include "engine/engine_data.h"
#include "engine/network_impl.h"
#include "onnx/importer.h"

namespace kestrel {
namespace {

std::vector<TensorDesc> describe_values(const ir::Graph& graph, const std::vector<int>& ids) {
  std::vector<TensorDesc> out;
  for (int id : ids) {
    const ir::Value& v = graph.values[size_t(id)];
    out.push_back({v.name, v.dtype, v.shape});
  }
  return out;
}

}  // namespace

NetworkDefinition::NetworkDefinition() : impl_(std::make_unique<Impl>()) {}
NetworkDefinition::~NetworkDefinition() = default;

std::vector<TensorDesc> NetworkDefinition::inputs() const { return describe_values(impl_->graph, impl_->graph.inputs); }
std::vector<TensorDesc> NetworkDefinition::outputs() const { return describe_values(impl_->graph, impl_->graph.outputs); }
size_t NetworkDefinition::num_layers() const { return impl_->graph.nodes.size(); }

std::unique_ptr<NetworkDefinition> Builder::create_network() const {
  return std::unique_ptr<NetworkDefinition>(new NetworkDefinition());
}

Status OnnxParser::parse(const void* data, size_t size, const std::string& source) {
  return guarded(&logger_, [&] {
    KESTREL_CHECK(!network_.impl().parsed, "{}: this network already holds a parsed model", source);
    auto& impl = network_.impl();
    impl.graph = onnx_import::import_model(data, size, source);
    impl.source = source;
    impl.source_hash = engine::fnv1a64(data, size);
    impl.parsed = true;
  });
}

Status OnnxParser::parse_from_file(const std::string& path) {
  return guarded(&logger_, [&] {
    KESTREL_CHECK(!network_.impl().parsed, "{}: this network already holds a parsed model", path);
    const std::vector<uint8_t> bytes = read_file(path);
    auto& impl = network_.impl();
    const std::string base_dir = std::filesystem::path(path).parent_path().string();
    impl.graph = onnx_import::import_model(bytes.data(), bytes.size(), path, base_dir.empty() ? "." : base_dir);
    impl.source = path;
    impl.source_hash = engine::fnv1a64(bytes.data(), bytes.size());
    impl.parsed = true;
  });
}

}  // namespace kestrel
