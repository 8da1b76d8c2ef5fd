#include <cstring>

#include <zlib.h>

#include "engine/byte_io.h"
#include "engine/engine_data.h"
#include "engine/graph_serialization.h"
#include "ir/op_registry.h"

namespace kestrel::engine {
namespace {

uint32_t crc32_of(const uint8_t* data, size_t size) {
  uLong crc = crc32(0L, Z_NULL, 0);
  // zlib takes uInt lengths: feed large buffers in pieces.
  while (size > 0) {
    const uInt chunk = uInt(std::min<size_t>(size, 1u << 30));
    crc = crc32(crc, data, chunk);
    data += chunk;
    size -= chunk;
  }
  return uint32_t(crc);
}

// Kernels trust the shapes they are given, so a loaded graph must be self-consistent: shape
// inference on it must reproduce every stored dtype and shape.
void verify_shapes(const ir::Graph& stored) {
  ir::Graph inferred = stored;
  for (const ir::Node& node : inferred.nodes) {
    ir::infer_node(inferred, node);
    for (int out : node.outputs) {
      if (out == ir::kNoValue) continue;
      const ir::Value& a = inferred.values[size_t(out)];
      const ir::Value& b = stored.values[size_t(out)];
      KESTREL_CHECK(a.dtype == b.dtype && a.shape == b.shape, "{}: stored output '{}' {} {} disagrees with its inputs ({} {})",
                    ir::describe(node), b.name, dtype_name(b.dtype), shape_str(b.shape), dtype_name(a.dtype),
                    shape_str(a.shape));
    }
  }
}

constexpr size_t kPrefixBytes = sizeof(kEngineMagic) + sizeof(uint32_t);
constexpr size_t kChecksumBytes = sizeof(uint32_t);

}  // namespace

uint64_t fnv1a64(const void* data, size_t size) {
  uint64_t hash = 1469598103934665603ull;
  const auto* p = static_cast<const uint8_t*>(data);
  for (size_t i = 0; i < size; ++i) {
    hash ^= p[i];
    hash *= 1099511628211ull;
  }
  return hash;
}

std::vector<uint8_t> serialize_engine(const EngineData& engine) {
  ByteWriter out;
  for (char c : kEngineMagic) out.put<char>(c);
  out.put<uint32_t>(kEngineFormatVersion);
  out.put_string(engine.producer);
  out.put<uint8_t>(uint8_t(engine.device));
  out.put<uint32_t>(engine.builder_flags);
  out.put<uint64_t>(engine.source_hash);
  out.put<int64_t>(engine.profile.min);
  out.put<int64_t>(engine.profile.opt);
  out.put<int64_t>(engine.profile.max);
  out.put<uint64_t>(engine.target.size());
  for (const auto& [key, value] : engine.target) {
    out.put_string(key);
    out.put_string(value);
  }
  write_graph(out, engine.graph);
  out.put<uint64_t>(engine.plan.arena_bytes);
  out.put<uint64_t>(engine.plan.offsets.size());
  for (int64_t offset : engine.plan.offsets) out.put<int64_t>(offset);
  std::vector<uint8_t>& bytes = out.bytes();
  const uint32_t crc = crc32_of(bytes.data(), bytes.size());
  out.put<uint32_t>(crc);
  return std::move(out.bytes());
}

EngineData deserialize_engine(const uint8_t* data, size_t size) {
  KESTREL_CHECK(size >= kPrefixBytes + kChecksumBytes, "not a Kestrel engine: {} bytes is too short", size);
  KESTREL_CHECK(std::memcmp(data, kEngineMagic, sizeof(kEngineMagic)) == 0,
                "not a Kestrel engine: wrong magic (the file does not start with KSTRLENG)");
  uint32_t version;
  std::memcpy(&version, data + sizeof(kEngineMagic), sizeof(version));
  KESTREL_CHECK(version == kEngineFormatVersion,
                "engine format version {} is not supported by this Kestrel (which reads version {}); rebuild the "
                "engine from its ONNX model", version, kEngineFormatVersion);
  uint32_t stored_crc;
  std::memcpy(&stored_crc, data + size - kChecksumBytes, kChecksumBytes);
  const uint32_t actual_crc = crc32_of(data, size - kChecksumBytes);
  KESTREL_CHECK(stored_crc == actual_crc,
                "the engine is corrupt: checksum mismatch (stored {:08x}, computed {:08x}); the file was truncated or "
                "modified", stored_crc, actual_crc);

  ByteReader in(data + kPrefixBytes, size - kPrefixBytes - kChecksumBytes);
  EngineData engine;
  try {
    engine.producer = in.get_string();
    const uint8_t device = in.get<uint8_t>();
    KESTREL_CHECK(device <= uint8_t(DeviceType::kCUDA), "unknown device code {}", device);
    engine.device = DeviceType(device);
    engine.builder_flags = in.get<uint32_t>();
    engine.source_hash = in.get<uint64_t>();
    engine.profile.min = in.get<int64_t>();
    engine.profile.opt = in.get<int64_t>();
    engine.profile.max = in.get<int64_t>();
    const size_t num_target_facts = in.get_count(16);
    for (size_t i = 0; i < num_target_facts; ++i) {
      std::string key = in.get_string();
      engine.target[key] = in.get_string();
    }
    engine.graph = read_graph(in);
    engine.plan.arena_bytes = in.get<uint64_t>();
    engine.plan.offsets.resize(in.get_count(sizeof(int64_t)));
    for (int64_t& offset : engine.plan.offsets) offset = in.get<int64_t>();
    KESTREL_CHECK(in.remaining() == 0, "{} unexpected bytes after the memory plan", in.remaining());
    engine.graph.topological_order();  // rejects cycles and dangling reads
    verify_shapes(engine.graph);
    validate_plan(engine.graph, engine.plan);
  } catch (const Error& e) {
    fail("the engine is malformed although its checksum matches: {}", e.what());
  }
  return engine;
}

}  // namespace kestrel::engine
