// Builder::build_serialized_network: static shapes, optimization passes, kernel check, memory
// plan, engine file.
#include "engine/api_guard.h"
#include "engine/backend.h"
#include "engine/engine_data.h"
#include "engine/network_impl.h"
#include "passes/pass.h"
#include "passes/rewrite_utils.h"

namespace kestrel {
namespace {

void log_info(ILogger& logger, const std::string& message) { logger.log(ILogger::Severity::kINFO, message.c_str()); }

// Gives every graph input a static shape: a shape set in the config, else the profile's
// batch size for a dynamic first dimension.
void resolve_input_shapes(ir::Graph& graph, const BuilderConfig& config) {
  for (const auto& [name, shape] : config.input_shapes()) {
    const int id = graph.find_value(name);
    const bool is_input = id != ir::kNoValue && std::find(graph.inputs.begin(), graph.inputs.end(), id) != graph.inputs.end();
    KESTREL_CHECK(is_input, "a shape is given for '{}', which is not an input of the model", name);
  }
  for (int id : graph.inputs) {
    ir::Value& v = graph.values[size_t(id)];
    auto given = config.input_shapes().find(v.name);
    if (given != config.input_shapes().end()) {
      KESTREL_CHECK(given->second.size() == v.shape.size(), "input '{}' has rank {}, the given shape {} has rank {}",
                    v.name, v.shape.size(), shape_str(given->second), given->second.size());
      for (size_t i = 0; i < v.shape.size(); ++i)
        KESTREL_CHECK(v.shape[i] < 0 || v.shape[i] == given->second[i],
                      "input '{}' has the fixed shape {}, the given shape {} differs", v.name, shape_str(v.shape),
                      shape_str(given->second));
      v.shape = given->second;
    }
    for (size_t i = 0; i < v.shape.size(); ++i) {
      if (v.shape[i] >= 0) continue;
      KESTREL_CHECK(i == 0, "input '{}' has a dynamic dimension {} in {}: give its shape with set_input_shape "
                    "(--shapes on the command line)", v.name, i, shape_str(v.shape));
      v.shape[i] = config.batch_profile().opt;
    }
    v.shape_known = true;
  }
}

}  // namespace

Result<std::vector<uint8_t>> Builder::build_serialized_network(const NetworkDefinition& network,
                                                                const BuilderConfig& config) const {
  std::vector<uint8_t> bytes;
  Status status = guarded(&logger_, [&] {
    const auto& impl = network.impl();
    KESTREL_CHECK(impl.parsed, "the network is empty: parse a model into it first");
    const engine::Backend& backend = engine::require_backend(config.device());
    const BatchProfile& profile = config.batch_profile();
    KESTREL_CHECK(profile.min >= 1 && profile.min <= profile.opt && profile.opt <= profile.max,
                  "the batch profile must satisfy 1 <= min <= opt <= max (got {}, {}, {})", profile.min, profile.opt,
                  profile.max);

    engine::EngineData engine;
    engine.producer = fmt::format("kestrel {}", version());
    engine.device = config.device();
    engine.builder_flags = config.flags();
    engine.source_hash = impl.source_hash;
    engine.profile = profile;
    engine.graph = impl.graph;
    try {
      resolve_input_shapes(engine.graph, config);
      passes::optimize(engine.graph);
      passes::give_outputs_producers(engine.graph);
      engine.graph.sort();
      backend.compile(engine, config);
    } catch (const Error& e) {
      fail("{}: {}", impl.source, e.what());
    }
    engine.plan = engine::plan_memory(engine.graph);
    KESTREL_CHECK(config.memory_pool_limit() == 0 || engine.plan.arena_bytes <= config.memory_pool_limit(),
                  "the engine needs {} bytes of activation memory, more than the limit of {}", engine.plan.arena_bytes,
                  config.memory_pool_limit());
    log_info(logger_, fmt::format("{}: {} layers after optimization (from {}), {} bytes of activation memory",
                                  impl.source, engine.graph.nodes.size(), impl.graph.nodes.size(), engine.plan.arena_bytes));
    bytes = engine::serialize_engine(engine);
  });
  if (!status.ok()) return status;
  return bytes;
}

}  // namespace kestrel
