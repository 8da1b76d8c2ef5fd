// Subcommands of the `kestrel` command line register themselves, one per file.
// Exit codes: 0 success, 1 a check failed (e.g. outputs outside tolerance), 2 bad usage or an
// unreadable or invalid file (the reason on stderr).
#pragma once
#include <functional>
#include <string>

#include <CLI/CLI.hpp>

namespace kestrel::cli {

constexpr int kExitOk = 0;
constexpr int kExitCheckFailed = 1;
constexpr int kExitBadInput = 2;

// Declares the subcommand's options on `app` and returns what runs once they are parsed.
using SetupFunction = std::function<std::function<int()>(CLI::App& app)>;

struct Subcommand {
  std::string name;
  std::string description;
  SetupFunction setup;
};

struct SubcommandRegistrar {
  explicit SubcommandRegistrar(Subcommand subcommand);
};

const std::vector<Subcommand>& registered_subcommands();

}  // namespace kestrel::cli

#define KESTREL_CLI_CONCAT_INNER(a, b) a##b
#define KESTREL_CLI_CONCAT(a, b) KESTREL_CLI_CONCAT_INNER(a, b)
#define KESTREL_REGISTER_SUBCOMMAND(...) \
  static ::kestrel::cli::SubcommandRegistrar KESTREL_CLI_CONCAT(kestrel_subcommand_, __LINE__)(__VA_ARGS__)
