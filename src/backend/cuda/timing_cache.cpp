#include "backend/cuda/timing_cache.h"

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <sstream>

#include "core/error.h"
#include "core/file_io.h"

namespace kestrel::cuda {

namespace {

constexpr const char* kHeader = "kestrel-timing-cache 1";

double parse_ms(const std::string& text, const std::string& path, int line) {
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  KESTREL_CHECK(end != text.c_str() && *end == '\0' && std::isfinite(v) && v >= 0,
                "{}:{}: '{}' is not a time in milliseconds", path, line, text);
  return v;
}

}  // namespace

TimingCache TimingCache::load(const std::string& path) {
  TimingCache cache;
  if (!std::filesystem::exists(path)) return cache;
  const std::vector<uint8_t> bytes = read_file(path);
  std::istringstream in(std::string(bytes.begin(), bytes.end()));
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (number == 1) {
      KESTREL_CHECK(line == kHeader, "{}: not a Kestrel timing cache (the first line must be '{}')", path, kHeader);
      continue;
    }
    if (line.empty()) continue;
    const size_t a = line.find('\t'), b = a == std::string::npos ? a : line.find('\t', a + 1);
    KESTREL_CHECK(b != std::string::npos && b + 1 < line.size(),
                  "{}:{}: expected '<candidate ms> TAB <default ms> TAB <key>'", path, number);
    KernelTiming t;
    t.candidate_ms = parse_ms(line.substr(0, a), path, number);
    t.default_ms = parse_ms(line.substr(a + 1, b - a - 1), path, number);
    cache.entries_[line.substr(b + 1)] = t;
  }
  KESTREL_CHECK(number >= 1, "{}: empty file is not a Kestrel timing cache", path);
  return cache;
}

void TimingCache::save(const std::string& path) const {
  std::ostringstream out;
  out << kHeader << '\n';
  out.precision(6);
  for (const auto& [key, t] : entries_) out << t.candidate_ms << '\t' << t.default_ms << '\t' << key << '\n';
  const std::string text = out.str();
  write_file_atomic(path, text.data(), text.size());
}

std::optional<KernelTiming> TimingCache::find(const std::string& key) const {
  auto it = entries_.find(key);
  if (it == entries_.end()) return std::nullopt;
  return it->second;
}

}  // namespace kestrel::cuda
