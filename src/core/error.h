// Internal error type. Inside the library, failures throw kestrel::Error with a message that
// names the file, node or tensor involved; the public API catches it at the boundary and turns it
// into a Status plus a logger message, so no exception ever reaches a user.
#pragma once
#include <stdexcept>
#include <string>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace kestrel {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

template <typename... Args>
[[noreturn]] void fail(fmt::format_string<Args...> format, Args&&... args) {
  throw Error(fmt::format(format, std::forward<Args>(args)...));
}

}  // namespace kestrel

#define KESTREL_CHECK(cond, ...)        \
  do {                                  \
    if (!(cond)) ::kestrel::fail(__VA_ARGS__); \
  } while (0)
