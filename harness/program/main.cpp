// The `tunedhttp` program: subcommands run, serve and request (the command-line contract,
// docs/architecture.md).
#include <iostream>
#include <new>
#include <tunedhttp/http_syntax.hpp>
#include <vector>

#include "commands.hpp"

int main(int argc, char** argv) {
  namespace program = tunedhttp::program;
  CLI::App app{
      "tunedhttp: an HTTP/1.1 client tuned by eight connection settings, "
      "a fault-injecting mock server, and scenarios that prove each setting."};
  app.require_subcommand(1);
  app.set_version_flag("--version", TUNEDHTTP_VERSION);

  std::vector<std::pair<CLI::App*, program::CommandRunner>> commands;
  auto add = [&](program::CommandRunner runner) {
    commands.emplace_back(app.get_subcommands({}).back(), std::move(runner));
  };
  add(program::add_run_command(app));
  add(program::add_serve_command(app));
  add(program::add_request_command(app));

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // CLI11's own exit codes differ per error kind; our contract is 2 for any usage error.
    std::cerr << "tunedhttp: " << tunedhttp::printable(e.what()) << "\n";
    return program::exit_usage;
  }
  // The program's edge: whatever a subcommand did not expect ends here as a one-line error with
  // the usage exit code, never as an abort (bad input must not crash the program).
  try {
    for (auto& [subcommand, runner] : commands) {
      if (subcommand->parsed()) return runner();
    }
  } catch (const std::bad_alloc&) {
    std::cerr << "tunedhttp: out of memory (an input asked for more than this machine has)\n";
    return program::exit_usage;
  } catch (const std::exception& e) {
    std::cerr << "tunedhttp: " << tunedhttp::printable(e.what()) << "\n";
    return program::exit_usage;
  }
  return program::exit_usage;
}
