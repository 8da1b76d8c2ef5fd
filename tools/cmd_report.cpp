// kestrel report RESULTS... --dataset ROOT [--split val] [--sequences a,b] [--json OUT]
//                [--plot OUT.png] [--zip OUT.zip]
// Scores result sets as the GOT-10k toolkit does (AO, SR0.50, SR0.75, fps) and prints a Markdown
// table; shards of one set (same manifest name) are merged. Exit 0: every set complete; 1: a set
// lacks sequences or shards, or some results could not be scored (the table is still printed);
// 2: bad usage or an unreadable dataset or folder.
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli_common.h"
#include "core/error.h"
#include "core/file_io.h"
#include "eval/report.h"
#include "eval/submission.h"
#include "subcommand.h"

namespace kestrel::cli {
namespace {
namespace fs = std::filesystem;

struct ReportOptions {
  std::vector<std::string> results, sequences;
  std::string dataset, split = "val", json, plot, zip;
};

std::string percent(double v) { return std::isnan(v) ? "-" : fmt::format("{:.1f}", 100 * v); }
std::string speed(double fps) { return fps < 0 ? "-" : fmt::format("{:.1f}", fps); }
nlohmann::json number(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }

std::string markdown_table(const std::vector<eval::SetReport>& reports, size_t total) {
  std::string out = "| result set | sequences | frames | AO | SR0.50 | SR0.75 | fps |\n|---|---|---|---|---|---|---|\n";
  for (const eval::SetReport& r : reports)
    out += fmt::format("| {} | {}/{} | {} | {} | {} | {} | {} |\n", r.name, r.sequences.size(), total,
                       r.overall.frames, percent(r.overall.ao), percent(r.overall.sr50), percent(r.overall.sr75),
                       speed(r.overall.fps));
  return out;
}

nlohmann::json metrics_json(const eval::Metrics& m) {
  return {{"ao", number(m.ao)}, {"sr50", number(m.sr50)}, {"sr75", number(m.sr75)}, {"fps", number(m.fps)},
          {"frames", m.frames}};
}

nlohmann::json report_json(const ReportOptions& opt, const std::vector<eval::SetReport>& reports) {
  nlohmann::json sets = nlohmann::json::array();
  for (const eval::SetReport& r : reports) {
    nlohmann::json set = metrics_json(r.overall);
    set["name"] = r.name;
    set["folders"] = r.folders;
    set["missing"] = r.missing;
    set["problems"] = r.problems;
    nlohmann::json curve = nlohmann::json::array();
    for (double v : r.overall.success_curve) curve.push_back(number(v));
    set["success_curve"] = curve;
    nlohmann::json per_sequence = nlohmann::json::array();
    for (const eval::SequenceScore& s : r.sequences) {
      nlohmann::json j = metrics_json(s.metrics);
      j["name"] = s.name;
      j["runs"] = s.runs;
      per_sequence.push_back(j);
    }
    set["sequences"] = per_sequence;
    sets.push_back(set);
  }
  return {{"dataset", opt.dataset}, {"split", opt.split}, {"sets", sets}};
}

// The plot script beside the sources: found from this file's path (builds keep it), from the
// executable (build folders inside the checkout) or from KESTREL_PLOT_SCRIPT.
std::string find_plot_script() {
  if (const char* env = std::getenv("KESTREL_PLOT_SCRIPT")) return env;
  std::vector<fs::path> candidates = {fs::path(__FILE__).parent_path().parent_path() / "scripts/plot_report.py"};
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec)
    for (fs::path dir = exe.parent_path(); !dir.empty() && dir != dir.root_path(); dir = dir.parent_path())
      candidates.push_back(dir / "scripts/plot_report.py");
  for (const fs::path& p : candidates)
    if (fs::is_regular_file(p, ec)) return p.string();
  fail("cannot find scripts/plot_report.py: set KESTREL_PLOT_SCRIPT to its path");
}

// Runs argv without a shell; returns the exit status (or -1 when it could not start).
int run_process(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    execv(argv[0], argv.data());
    _exit(127);
  }
  int status = 0;
  if (waitpid(pid, &status, 0) < 0) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int run(const ReportOptions& opt) {
  const bool full = opt.split != "test";  // the test split's ground truth is on the server
  eval::Split split;
  std::vector<std::string> sequences;
  std::vector<eval::ResultSet> sets;
  try {
    split = eval::open_split(opt.dataset, opt.split);
    sequences = eval::select_sequences(split, opt.sequences);
    sets = eval::group_result_sets(opt.results);
  } catch (const std::exception& e) {
    return report_error(e.what());
  }
  const std::vector<eval::Annotated> annotations = eval::load_annotations(split, sequences, full);
  for (const eval::Annotated& a : annotations)
    if (!a.error.empty()) fmt::print(stderr, "kestrel: {}\n", a.error);

  std::vector<eval::SetReport> reports;
  for (const eval::ResultSet& set : sets) reports.push_back(eval::evaluate_set(set, annotations, full, opt.split));
  fmt::print("{}", markdown_table(reports, sequences.size()));
  if (!full) fmt::print("\nThe test split's ground truth is held by the GOT-10k server: only speeds are computed here.\n");
  bool complete = true;
  for (const eval::SetReport& r : reports) {
    if (r.complete()) continue;
    complete = false;
    fmt::print("\n{}:\n", r.name);
    if (!r.missing.empty())
      fmt::print("- no results for {} sequence(s): {}\n", r.missing.size(), fmt::join(r.missing, ", "));
    for (const std::string& p : r.problems) fmt::print("- {}\n", p);
  }

  try {
    const nlohmann::json json = report_json(opt, reports);
    if (!opt.json.empty()) {
      const std::string text = json.dump(2) + "\n";
      write_file_atomic(opt.json, text.data(), text.size());
    }
    if (!opt.plot.empty()) {
      const std::string data = opt.plot + ".json.tmp";
      const std::string text = json.dump() + "\n";
      write_file_atomic(data, text.data(), text.size());
      const char* python = std::getenv("KESTREL_PYTHON");
      const int status = run_process({python ? python : "/usr/bin/python3", find_plot_script(), data, opt.plot});
      std::remove(data.c_str());
      KESTREL_CHECK(status == 0, "{}: the plot script failed (exit status {})", opt.plot, status);
    }
    if (!opt.zip.empty()) {
      KESTREL_CHECK(sets.size() == 1, "--zip takes one result set, {} were given", sets.size());
      eval::write_submission_zip(opt.zip, sets.front(), sequences);
    }
  } catch (const std::exception& e) {
    return report_error(e.what());
  }
  return complete ? kExitOk : kExitCheckFailed;
}

std::function<int()> setup(CLI::App& app) {
  auto opt = std::make_shared<ReportOptions>();
  app.add_option("results", opt->results, "Results folders (shards of one set are merged)")->required();
  app.add_option("--dataset", opt->dataset, "GOT-10k root (holding <split>/list.txt)")->required();
  app.add_option("--split", opt->split, "Split the results are for");
  app.add_option("--sequences", opt->sequences, "Only these sequences, comma-separated")->delimiter(',');
  app.add_option("--json", opt->json, "Write every number (per set and per sequence, success curves) as JSON");
  app.add_option("--plot", opt->plot, "Write success curves and a speed chart as PNG (Python with matplotlib)");
  app.add_option("--zip", opt->zip, "Write the GOT-10k server's zip of the (one) result set");
  return [opt] { return run(*opt); };
}

KESTREL_REGISTER_SUBCOMMAND(Subcommand{"report", "Score GOT-10k results: AO, SR, fps, success curves", setup});

}  // namespace
}  // namespace kestrel::cli
