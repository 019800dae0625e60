// `tunedhttp request` argument parsing: the input split on NUL bytes is the command line after
// "tunedhttp request" (at most 16 arguments). The parse, with every validator of the request
// subcommand (URL, method, headers, durations, counts), ends with success or a CLI::ParseError
// (a usage error); any other exception, a sanitizer report or a crash is a finding. The runner
// add_request_command() returns is never called: it would send requests and read files.
//
// Nothing here may touch a file: an argument starting with '@' (--data @FILE) is replaced by a
// plain string, and the options that name files (--cacert, --timeline, --trace-out, -d/--data)
// are dropped with their value.
#include <CLI/CLI.hpp>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <tunedhttp/http_syntax.hpp>
#include <vector>

#include "commands.hpp"

namespace {

constexpr std::size_t max_args = 16;

// An option that names a file, with its value in the next argument or after '='.
bool names_file(std::string_view arg, bool& value_follows) {
  for (const std::string_view flag : {"--cacert", "--timeline", "--trace-out", "--data", "-d"}) {
    if (arg == flag) {
      value_follows = true;
      return true;
    }
    if (arg.size() > flag.size() && arg.substr(0, flag.size()) == flag &&
        (arg[flag.size()] == '=' || flag == "-d")) {
      value_follows = false;  // --cacert=FILE, -dVALUE
      return true;
    }
  }
  return false;
}

std::vector<std::string> arguments(const std::uint8_t* data, std::size_t size) {
  std::vector<std::string> split;
  std::string current;
  for (std::size_t i = 0; i < size && split.size() < max_args; ++i) {
    if (data[i] == 0) {
      split.push_back(std::move(current));
      current.clear();
    } else {
      current += static_cast<char>(data[i]);
    }
  }
  if (split.size() < max_args && (!current.empty() || (size > 0 && data[size - 1] == 0))) {
    split.push_back(std::move(current));
  }

  std::vector<std::string> args{"tunedhttp", "request"};
  for (std::size_t i = 0; i < split.size(); ++i) {
    bool value_follows = false;
    if (names_file(split[i], value_follows)) {
      if (value_follows) ++i;
      continue;
    }
    if (!split[i].empty() && split[i].front() == '@') split[i] = "at-sign";
    args.push_back(std::move(split[i]));
  }
  return args;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto args = arguments(data, size);
  std::vector<const char*> argv;
  argv.reserve(args.size());
  for (const auto& arg : args) argv.push_back(arg.c_str());

  CLI::App app{"tunedhttp"};
  app.require_subcommand(1);
  const auto runner = tunedhttp::program::add_request_command(app);
  (void)runner;  // never run: it sends requests
  try {
    app.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const CLI::ParseError& error) {
    // A usage error; the program prints it through printable(), which must stay one clean line.
    const std::string shown = tunedhttp::printable(error.what());
    for (const char c : shown) {
      const auto byte = static_cast<unsigned char>(c);
      if (byte < 0x20 || byte == 0x7f) __builtin_trap();
    }
  }
  return 0;
}
