// `tunedhttp run [PATH...] [--json] [--timeline DIR] [--trace-out FILE]`: load every scenario
// first (bad input → exit 2), run them one by one with a progress line, then print the table or
// the JSON report (a contract, docs/architecture.md), and write the timelines (one SVG per
// scenario) and Chrome trace.
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <tunedhttp/harness/chrome_trace.hpp>
#include <tunedhttp/harness/loader.hpp>
#include <tunedhttp/harness/report.hpp>
#include <tunedhttp/harness/runner.hpp>
#include <tunedhttp/harness/timeline.hpp>
#include <tunedhttp/http_syntax.hpp>

#include "commands.hpp"

namespace tunedhttp::program {
namespace {

struct RunOptions {
  std::vector<std::string> paths;
  std::string peer = "tunedhttp";  ///< whose client runs the steps: tunedhttp or go
  std::string compare;             ///< "go": run each scenario with ours and with Go's
  std::string go_peer;             ///< the Go peer program (default: found)
  bool json = false;
  std::string timeline_dir;  ///< empty: no timelines.
  std::string trace_out;     ///< empty: no Chrome trace.
};

bool write_file(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (out) return true;
  std::cerr << "tunedhttp run: cannot write " << path.string() << "\n";
  return false;
}

// Timelines and trace, after the report. Returns false when a file could not be written.
bool write_outputs(const RunOptions& options, const std::vector<harness::ScenarioResult>& results) {
  bool written = true;
  std::vector<harness::Timeline> timelines;
  for (const auto& result : results) timelines.push_back(harness::timeline_from_result(result));
  if (!options.timeline_dir.empty()) {
    for (std::size_t i = 0; i < results.size(); ++i) {
      written &= write_file(std::filesystem::path(options.timeline_dir) /
                                harness::timeline_file_name(results[i].name),
                            harness::render_timeline_svg(timelines[i]));
    }
  }
  if (!options.trace_out.empty()) {
    written &= write_file(options.trace_out, harness::chrome_trace_json(timelines));
  }
  return written;
}

// Progress on stderr: one rewritten line on a terminal, plain lines otherwise.
class Progress {
 public:
  Progress() : live_(isatty(STDERR_FILENO) != 0) {}
  void starting(std::size_t index, std::size_t total, const std::string& name) {
    if (!live_) return;
    std::cerr << "\r\033[K[" << index << "/" << total << "] " << printable(name) << std::flush;
  }
  void finished(std::size_t index, std::size_t total, const harness::ScenarioResult& result) {
    if (live_) {
      std::cerr << "\r\033[K";
      if (!result.passed) std::cerr << harness::format_result_line(result) << "\n";
      std::cerr << std::flush;
      return;
    }
    std::cerr << "[" << index << "/" << total << "] " << harness::format_result_line(result)
              << std::endl;
  }

 private:
  bool live_;
};

// --compare go: every scenario with our client, then with Go's; one side-by-side report.
int compare_with_go(const RunOptions& options, const std::vector<harness::Scenario>& scenarios,
                    harness::RunOptions run_options, Progress& progress) {
  std::vector<harness::Comparison> comparisons;
  for (std::size_t i = 0; i < scenarios.size(); ++i) {
    progress.starting(i + 1, scenarios.size(), scenarios[i].name);
    run_options.peer = harness::Peer::tunedhttp;
    auto ours = harness::run_scenario(scenarios[i], run_options);
    run_options.peer = harness::Peer::go;
    auto go = harness::run_scenario(scenarios[i], run_options);
    comparisons.push_back(
        harness::compare_results(std::move(ours), std::move(go), scenarios[i].go_differs));
    progress.finished(i + 1, scenarios.size(), comparisons.back().ours);
  }
  std::cout << (options.json ? harness::format_comparison_json(comparisons)
                             : harness::format_comparison_table(comparisons))
            << std::flush;
  const bool all_ok = std::all_of(comparisons.begin(), comparisons.end(),
                                  [](const harness::Comparison& c) { return c.ok; });
  return all_ok ? 0 : 1;
}

int run(const RunOptions& options) {
  std::vector<harness::Scenario> scenarios;
  try {
    const auto files = harness::find_scenario_files(
        options.paths.empty() ? std::vector<std::string>{"scenarios"} : options.paths);
    for (const auto& file : files) scenarios.push_back(harness::load_scenario_file(file));
  } catch (const harness::LoadError& e) {
    std::cerr << "tunedhttp run: " << printable(e.what()) << "\n";
    return exit_usage;
  }
  if (!options.trace_out.empty()) {
    // Found now, not after every scenario ran: the file is opened (and left empty) up front.
    std::ofstream out(options.trace_out, std::ios::binary | std::ios::app);
    if (!out) {
      std::cerr << "tunedhttp run: --trace-out " << quote(options.trace_out)
                << ": cannot write the file: " << std::strerror(errno) << "\n";
      return exit_usage;
    }
  }

  if (!options.timeline_dir.empty()) {
    std::error_code error;
    std::filesystem::create_directories(options.timeline_dir, error);
    if (error || !std::filesystem::is_directory(options.timeline_dir)) {
      std::cerr << "tunedhttp run: --timeline " << quote(options.timeline_dir)
                << ": cannot create the directory" << (error ? ": " + error.message() : "") << "\n";
      return exit_usage;
    }
  }

  harness::RunOptions run_options;
  run_options.go_peer_program = options.go_peer;
  if (!options.compare.empty() || options.peer == "go") {
    run_options.go_peer_program = harness::find_go_peer(options.go_peer);
    if (run_options.go_peer_program.empty()) {
      std::cerr << "tunedhttp run: no Go peer (tunedhttp-go-peer): build it with `cmake --build "
                   "build --target tunedhttp_go_peer` or name it with --go-peer\n";
      return exit_usage;
    }
  }
  Progress progress;
  if (!options.compare.empty()) return compare_with_go(options, scenarios, run_options, progress);
  run_options.peer = options.peer == "go" ? harness::Peer::go : harness::Peer::tunedhttp;
  std::vector<harness::ScenarioResult> results;
  for (std::size_t i = 0; i < scenarios.size(); ++i) {
    progress.starting(i + 1, scenarios.size(), scenarios[i].name);
    results.push_back(harness::run_scenario(scenarios[i], run_options));
    // A difference the scenario declares is Go's documented behaviour, not a failure.
    if (run_options.peer == harness::Peer::go && scenarios[i].go_differs &&
        !results.back().passed) {
      results.back().passed = true;
      results.back().failures.clear();
      results.back().configured += " (Go differs on purpose: " + *scenarios[i].go_differs + ")";
    }
    progress.finished(i + 1, scenarios.size(), results.back());
  }
  std::cout << (options.json ? harness::format_json(results) : harness::format_table(results))
            << std::flush;
  if (!write_outputs(options, results)) return exit_usage;
  for (const auto& result : results) {
    if (!result.passed) return 1;
  }
  return 0;
}

}  // namespace

CommandRunner add_run_command(CLI::App& app) {
  auto options = std::make_shared<RunOptions>();
  CLI::App* command = app.add_subcommand(
      "run",
      "Run scenario files or folders (default: scenarios/) and report each setting's "
      "timing. Exit 0 iff all pass, 1 if any fails, 2 on bad input. On a slow machine set "
      "TUNEDHTTP_TIMING_SCALE (e.g. 3) to multiply every scenario's tolerance.");
  command->add_option("paths", options->paths,
                      "scenario files (*.yaml) or folders; default: scenarios/");
  command->add_flag("--json", options->json, "print a JSON report instead of the table");
  command
      ->add_option("--peer", options->peer,
                   "whose client runs the steps: tunedhttp (ours) or go (Go's net/http "
                   "Transport, through the Go peer); server, faults and expectations stay the same")
      ->check(CLI::IsMember({"tunedhttp", "go"}))
      ->capture_default_str();
  command
      ->add_option("--compare", options->compare,
                   "go: run every scenario with ours and with Go's client and print them side by "
                   "side; an undeclared difference fails (a scenario declares one with "
                   "`go: {differs: why}`)")
      ->check(CLI::IsMember({"go"}));
  command
      ->add_option("--go-peer", options->go_peer,
                   "the Go peer program (default: build/peers/go/tunedhttp-go-peer beside this "
                   "program, or tunedhttp-go-peer on PATH)")
      ->type_name("FILE");
  command
      ->add_option("--timeline", options->timeline_dir,
                   "write one SVG timeline per scenario into DIR (created if missing)")
      ->type_name("DIR");
  command
      ->add_option("--trace-out", options->trace_out,
                   "write every scenario's events as Chrome Trace Event JSON to FILE "
                   "(open in Perfetto or chrome://tracing)")
      ->type_name("FILE");
  return [options] { return run(*options); };
}

}  // namespace tunedhttp::program
