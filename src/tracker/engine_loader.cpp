#include "tracker/engine_loader.h"

#include "core/error.h"

namespace kestrel::tracker {
namespace {

std::vector<uint8_t> build_onnx(const std::string& path, const EngineLoadOptions& options, ILogger& logger) {
  Builder builder(logger);
  auto network = builder.create_network();
  OnnxParser parser(*network, logger);
  const Status parsed = parser.parse_from_file(path);
  KESTREL_CHECK(parsed.ok(), "{}", parsed.message());
  BuilderConfig config = options.config;
  bool dynamic_batch = false;
  for (const TensorDesc& input : network->inputs()) dynamic_batch |= !input.shape.empty() && input.shape[0] < 0;
  if (dynamic_batch) config.set_batch_profile({1, options.batch, options.batch});
  auto built = builder.build_serialized_network(*network, config);
  KESTREL_CHECK(built.ok(), "{}", built.status().message());
  return std::move(built.value());
}

}  // namespace

std::unique_ptr<Engine> load_engine(const std::string& path, const EngineLoadOptions& options, ILogger& logger) {
  KESTREL_CHECK(options.batch >= 1, "the batch must be at least 1, not {}", options.batch);
  auto bytes = load_file(path);
  KESTREL_CHECK(bytes.ok(), "{}", bytes.status().message());
  if (!is_engine_file(bytes->data(), bytes->size())) bytes = build_onnx(path, options, logger);
  Runtime runtime(logger);
  auto engine = runtime.deserialize(bytes->data(), bytes->size(), path);
  KESTREL_CHECK(engine.ok(), "{}", engine.status().message());
  return std::move(engine.value());
}

}  // namespace kestrel::tracker
