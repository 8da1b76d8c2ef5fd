// Entry point of the `kestrel` command line; each subcommand lives in its own cmd_*.cpp file.
#include <cstdio>
#include <map>

#include <fmt/format.h>

#include "kestrel/kestrel.h"
#include "subcommand.h"

namespace kestrel::cli {

static std::vector<Subcommand>& subcommands() {
  static std::vector<Subcommand> list;
  return list;
}

SubcommandRegistrar::SubcommandRegistrar(Subcommand subcommand) { subcommands().push_back(std::move(subcommand)); }
const std::vector<Subcommand>& registered_subcommands() { return subcommands(); }

}  // namespace kestrel::cli

int main(int argc, char** argv) {
  using namespace kestrel::cli;
  CLI::App app{fmt::format("Kestrel {}: build and run optimized inference engines from ONNX models", kestrel::version())};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string(kestrel::version()));
  std::map<CLI::App*, std::function<int()>> runs;
  for (const Subcommand& sub : registered_subcommands()) {
    CLI::App* cmd = app.add_subcommand(sub.name, sub.description);
    runs[cmd] = sub.setup(*cmd);
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? kExitOk : kExitBadInput;
  }
  for (auto& [cmd, run] : runs)
    if (cmd->parsed()) return run();
  return kExitBadInput;
}
