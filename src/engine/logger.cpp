#include <cstdio>

#include "kestrel/kestrel.h"

namespace kestrel {

const char* version() { return KESTREL_VERSION; }

void Logger::log(Severity severity, const char* message) noexcept {
  if (int(severity) > int(threshold_)) return;
  static const char* const kNames[] = {"internal error", "error", "warning", "info", "verbose"};
  std::fprintf(stderr, "kestrel %s: %s\n", kNames[int(severity)], message);
}

}  // namespace kestrel
