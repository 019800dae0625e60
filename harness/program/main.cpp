// The `tunedhttp` program: subcommands run, serve and request (DESIGN §4).
#include <iostream>
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
    std::cerr << "tunedhttp: " << e.what() << "\n";
    return program::exit_usage;
  }
  for (auto& [subcommand, runner] : commands) {
    if (subcommand->parsed()) return runner();
  }
  return program::exit_usage;
}
