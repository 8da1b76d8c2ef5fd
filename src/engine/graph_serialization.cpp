#include "engine/graph_serialization.h"

#include <cstring>

namespace kestrel::engine {
namespace {

enum class AttrTag : uint8_t { kInt = 0, kFloat, kString, kInts, kFloats, kStrings, kTensor };

void write_shape(ByteWriter& out, const Shape& shape) {
  out.put<uint64_t>(shape.size());
  for (int64_t d : shape) out.put<int64_t>(d);
}

Shape read_shape(ByteReader& in) {
  Shape shape(in.get_count(sizeof(int64_t)));
  for (int64_t& d : shape) {
    d = in.get<int64_t>();
    KESTREL_CHECK(d >= 0, "negative dimension {}", d);
  }
  return shape;
}

DataType read_dtype(ByteReader& in) {
  const uint8_t t = in.get<uint8_t>();
  KESTREL_CHECK(t <= uint8_t(DataType::kBOOL), "unknown data type code {}", t);
  return DataType(t);
}

void write_tensor(ByteWriter& out, const Tensor& t) {
  out.put<uint8_t>(uint8_t(t.dtype()));
  write_shape(out, t.shape());
  out.put_bytes(t.raw(), t.nbytes());
}

Tensor read_tensor(ByteReader& in) {
  const DataType dtype = read_dtype(in);
  const Shape shape = read_shape(in);
  size_t n = 0;
  const uint8_t* bytes = in.get_bytes(&n);
  // Compare without computing numel first: a corrupt shape could overflow it.
  uint64_t expected = dtype_size(dtype);
  for (int64_t d : shape) {
    KESTREL_CHECK(d == 0 || expected <= n / uint64_t(d), "tensor data of {} bytes does not match shape {}", n,
                  shape_str(shape));
    expected *= uint64_t(d);
  }
  KESTREL_CHECK(expected == n || (shape_numel(shape) == 0 && n == 0), "tensor data of {} bytes does not match shape {}",
                n, shape_str(shape));
  Tensor t(dtype, shape);
  if (n) std::memcpy(t.raw(), bytes, n);
  return t;
}

void write_ids(ByteWriter& out, const std::vector<int>& ids) {
  out.put<uint64_t>(ids.size());
  for (int id : ids) out.put<int32_t>(id);
}

std::vector<int> read_ids(ByteReader& in, size_t num_values, bool allow_none) {
  std::vector<int> ids(in.get_count(sizeof(int32_t)));
  for (int& id : ids) {
    id = in.get<int32_t>();
    KESTREL_CHECK((allow_none && id == ir::kNoValue) || (id >= 0 && size_t(id) < num_values),
                  "value index {} is out of range", id);
  }
  return ids;
}

void write_strings(ByteWriter& out, const std::vector<std::string>& strings) {
  out.put<uint64_t>(strings.size());
  for (const auto& s : strings) out.put_string(s);
}

std::vector<std::string> read_strings(ByteReader& in) {
  std::vector<std::string> strings(in.get_count(sizeof(uint64_t)));
  for (auto& s : strings) s = in.get_string();
  return strings;
}

void write_attribute(ByteWriter& out, const ir::AttributeValue& value) {
  std::visit(
      [&](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, int64_t>) {
          out.put(AttrTag::kInt);
          out.put<int64_t>(v);
        } else if constexpr (std::is_same_v<T, float>) {
          out.put(AttrTag::kFloat);
          out.put<float>(v);
        } else if constexpr (std::is_same_v<T, std::string>) {
          out.put(AttrTag::kString);
          out.put_string(v);
        } else if constexpr (std::is_same_v<T, std::vector<int64_t>>) {
          out.put(AttrTag::kInts);
          out.put<uint64_t>(v.size());
          for (int64_t x : v) out.put<int64_t>(x);
        } else if constexpr (std::is_same_v<T, std::vector<float>>) {
          out.put(AttrTag::kFloats);
          out.put<uint64_t>(v.size());
          for (float x : v) out.put<float>(x);
        } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
          out.put(AttrTag::kStrings);
          write_strings(out, v);
        } else {
          out.put(AttrTag::kTensor);
          write_tensor(out, v);
        }
      },
      value);
}

ir::AttributeValue read_attribute(ByteReader& in) {
  const auto tag = in.get<AttrTag>();
  switch (tag) {
    case AttrTag::kInt: return in.get<int64_t>();
    case AttrTag::kFloat: return in.get<float>();
    case AttrTag::kString: return in.get_string();
    case AttrTag::kInts: {
      std::vector<int64_t> v(in.get_count(sizeof(int64_t)));
      for (auto& x : v) x = in.get<int64_t>();
      return v;
    }
    case AttrTag::kFloats: {
      std::vector<float> v(in.get_count(sizeof(float)));
      for (auto& x : v) x = in.get<float>();
      return v;
    }
    case AttrTag::kStrings: return read_strings(in);
    case AttrTag::kTensor: return read_tensor(in);
  }
  fail("unknown attribute tag {}", int(tag));
}

}  // namespace

void write_graph(ByteWriter& out, const ir::Graph& graph) {
  out.put_string(graph.name);
  out.put<int32_t>(graph.opset);
  out.put<uint64_t>(graph.values.size());
  for (const ir::Value& v : graph.values) {
    out.put_string(v.name);
    out.put<uint8_t>(uint8_t(v.dtype));
    write_shape(out, v.shape);
    out.put<uint8_t>(v.constant ? 1 : 0);
    if (v.constant) write_tensor(out, *v.constant);
  }
  out.put<uint64_t>(graph.nodes.size());
  for (const ir::Node& n : graph.nodes) {
    out.put_string(n.name);
    out.put_string(n.op_type);
    out.put_string(n.domain);
    out.put<int32_t>(n.opset);
    write_ids(out, n.inputs);
    write_ids(out, n.outputs);
    out.put<uint8_t>(uint8_t(n.precision));
    write_strings(out, n.fused_from);
    out.put_string(n.kernel);
    out.put<uint64_t>(n.attrs.all().size());
    for (const auto& [name, value] : n.attrs.all()) {
      out.put_string(name);
      write_attribute(out, value);
    }
  }
  write_ids(out, graph.inputs);
  write_ids(out, graph.outputs);
}

ir::Graph read_graph(ByteReader& in) {
  ir::Graph graph;
  graph.name = in.get_string();
  graph.opset = in.get<int32_t>();
  graph.values.resize(in.get_count(16));
  for (ir::Value& v : graph.values) {
    v.name = in.get_string();
    v.dtype = read_dtype(in);
    v.shape = read_shape(in);
    v.shape_known = true;
    if (in.get<uint8_t>()) {
      v.constant = read_tensor(in);
      KESTREL_CHECK(v.constant->shape() == v.shape && v.constant->dtype() == v.dtype,
                    "constant '{}' disagrees with its declared type", v.name);
    }
  }
  graph.nodes.resize(in.get_count(32));
  for (ir::Node& n : graph.nodes) {
    n.name = in.get_string();
    n.op_type = in.get_string();
    n.domain = in.get_string();
    n.opset = in.get<int32_t>();
    n.inputs = read_ids(in, graph.values.size(), true);
    n.outputs = read_ids(in, graph.values.size(), true);
    const uint8_t precision = in.get<uint8_t>();
    KESTREL_CHECK(precision <= uint8_t(ir::Precision::kINT8), "unknown precision code {}", precision);
    n.precision = ir::Precision(precision);
    n.fused_from = read_strings(in);
    n.kernel = in.get_string();
    const size_t num_attrs = in.get_count(9);
    for (size_t i = 0; i < num_attrs; ++i) {
      std::string name = in.get_string();
      n.attrs.set(name, read_attribute(in));
    }
  }
  graph.inputs = read_ids(in, graph.values.size(), false);
  graph.outputs = read_ids(in, graph.values.size(), false);
  return graph;
}

}  // namespace kestrel::engine
