#include "ir/attributes.h"

#include "core/error.h"

namespace kestrel::ir {

template <typename T>
const T& Attributes::get(const std::string& name) const {
  auto it = values_.find(name);
  KESTREL_CHECK(it != values_.end(), "missing required attribute '{}'", name);
  const T* value = std::get_if<T>(&it->second);
  KESTREL_CHECK(value != nullptr, "attribute '{}' has the wrong type", name);
  return *value;
}

int64_t Attributes::get_int(const std::string& name) const { return get<int64_t>(name); }
int64_t Attributes::get_int(const std::string& name, int64_t fallback) const {
  return has(name) ? get<int64_t>(name) : fallback;
}
float Attributes::get_float(const std::string& name) const { return get<float>(name); }
float Attributes::get_float(const std::string& name, float fallback) const {
  return has(name) ? get<float>(name) : fallback;
}
std::string Attributes::get_string(const std::string& name) const { return get<std::string>(name); }
std::string Attributes::get_string(const std::string& name, const std::string& fallback) const {
  return has(name) ? get<std::string>(name) : fallback;
}
std::vector<int64_t> Attributes::get_ints(const std::string& name) const { return get<std::vector<int64_t>>(name); }
std::vector<int64_t> Attributes::get_ints(const std::string& name, const std::vector<int64_t>& fallback) const {
  return has(name) ? get<std::vector<int64_t>>(name) : fallback;
}
std::vector<float> Attributes::get_floats(const std::string& name) const { return get<std::vector<float>>(name); }
std::vector<float> Attributes::get_floats(const std::string& name, const std::vector<float>& fallback) const {
  return has(name) ? get<std::vector<float>>(name) : fallback;
}
const Tensor& Attributes::get_tensor(const std::string& name) const { return get<Tensor>(name); }

}  // namespace kestrel::ir
