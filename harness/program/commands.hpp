#pragma once
// The subcommands of the `tunedhttp` program. Each adds itself to the CLI11 app and returns
// the function that runs it after parsing (its result is the process exit code).

#include <CLI/CLI.hpp>
#include <functional>

namespace tunedhttp::program {

/// Runs a parsed subcommand; returns the exit code (0 ok, 1 failure, 2 bad input).
using CommandRunner = std::function<int()>;

/// Exit code for bad input: unknown flag, bad value, unreadable file.
inline constexpr int exit_usage = 2;

/// `tunedhttp run`: scenario files → table or JSON report (docs/scenarios.md).
CommandRunner add_run_command(CLI::App& app);

/// `tunedhttp serve`: the mock server on its own (docs/faults.md).
CommandRunner add_serve_command(CLI::App& app);

/// `tunedhttp request`: curl-like, with the tuned client (docs/request.md).
CommandRunner add_request_command(CLI::App& app);

}  // namespace tunedhttp::program
