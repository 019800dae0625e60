// Bad input never crashes, never hangs, never injects: every subcommand run on a table
// of hostile arguments and files ends with a one-line error and exit 2, never an abort (134) or
// a segfault (139), and within seconds.
#include <signal.h>
#include <sys/socket.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "program_test_support.hpp"

namespace tunedhttp::program::testing {
namespace {

struct HostileCase {
  std::string name;
  std::vector<std::string> args;  ///< after the program; "$DIR" becomes a temporary folder
  std::string named;              ///< what the one-line error must name
};

class HostileArguments : public ::testing::TestWithParam<HostileCase> {};

/// Files the cases refer to, made once per test in a temporary folder.
struct HostileFiles {
  HostileFiles() {
    directory.write("empty.pem", "");
    directory.write("not-pem.pem", "this is not a certificate\n");
    std::filesystem::create_directories(directory.path() + "/a-folder");
    std::filesystem::create_directories(directory.path() + "/no-yaml");
    std::filesystem::create_symlink(directory.path() + "/loop.yaml",
                                    directory.path() + "/loop.yaml");
    const std::string request = "steps:\n  - request: {";
    const std::string expect = "}\n    expect: {status: 200}\n";
    directory.write("wait.yaml", "steps: [wait: 2562047h]\n");
    directory.write("pending.yaml",
                    "steps:\n  - request: {}\n    expect: {pending_after: 2562047h}\n");
    directory.write("parallel.yaml", request + "parallel: 1000000" + expect);
    directory.write("body.yaml", request + "body: 99999GiB" + expect);
    directory.write("header.yaml",
                    request + "headers: {X: " + std::string(70'000, 'a') + "}" + expect);
    directory.write("inject.yaml", request + "headers: {X: \"a\\r\\nInj: 1\"}" + expect);
    directory.write("status.yaml", "server: {routes: {/x: {status: 70000}}}\nsteps: [wait: 1ms]\n");
    directory.write("route-size.yaml",
                    "server: {routes: {/x: {body_size: 5000GiB}}}\nsteps: [wait: 1ms]\n");
    directory.write("twice.yaml", "steps: [wait: 1ms]\nsteps: [wait: 2ms]\n");
    directory.write("two-docs.yaml", "steps: [wait: 1ms]\n---\nsteps: [wait: 1ms]\n");
    directory.write("big.yaml", "steps: [wait: 1ms]\n#" + std::string(300 * 1024, 'x') + "\n");
    directory.write("deep.yaml", "steps: " + std::string(5000, '[') + std::string(5000, ']'));
  }
  TemporaryDirectory directory;
};

std::vector<std::string> with_directory(std::vector<std::string> args, const std::string& path) {
  for (auto& arg : args) {
    for (auto at = arg.find("$DIR"); at != std::string::npos; at = arg.find("$DIR")) {
      arg.replace(at, 4, path);
    }
  }
  return args;
}

TEST_P(HostileArguments, ExitTwoWithOneLineAndNoCrash) {
  HostileFiles files;
  const auto run = run_program(with_directory(GetParam().args, files.directory.path()), 15s);
  EXPECT_EQ(run.exit_code, 2) << "stderr: " << run.err.substr(0, 2000);
  EXPECT_LT(run.wall, 10s) << "took " << std::chrono::duration<double>(run.wall).count() << " s";
  EXPECT_NE(run.err.find(with_directory({GetParam().named}, files.directory.path())[0]),
            std::string::npos)
      << "got stderr " << run.err.substr(0, 2000) << "; want it to name " << GetParam().named;
  EXPECT_EQ(std::count(run.err.begin(), run.err.end(), '\n'), 1)
      << "want one line: " << run.err.substr(0, 2000);
  EXPECT_LT(run.err.size(), 1000u) << "an error names the input, it does not repeat it";
}

const std::string huge_value(70'000, 'v');

INSTANTIATE_TEST_SUITE_P(
    Program, HostileArguments,
    ::testing::Values(
        // request: the library's own rules at the edge, and files that are not what they say.
        HostileCase{"EmptyCacertForHttp",
                    {"request", nothing_listens_url, "--cacert", "$DIR/empty.pem"},
                    "--cacert"},
        HostileCase{"NonPemCacert",
                    {"request", nothing_listens_url, "--cacert", "$DIR/not-pem.pem"},
                    "--cacert"},
        HostileCase{
            "HugeHeaderValue", {"request", nothing_listens_url, "-H", "X: " + huge_value}, "65533"},
        HostileCase{
            "HugeHeaderName", {"request", nothing_listens_url, "-H", huge_value + ": v"}, "65533"},
        HostileCase{"HeaderWithCrLf",
                    {"request", nothing_listens_url, "-H", "X: a\r\nInj: 1"},
                    "invalid header field value for \"X\""},
        HostileCase{
            "HeaderWithBareLf", {"request", nothing_listens_url, "-H", "X: a\nb"}, "X: a\\nb"},
        HostileCase{"HeaderNameWithSpace",
                    {"request", nothing_listens_url, "-H", "Bad Name: v"},
                    "invalid header field name"},
        HostileCase{
            "MethodWithCrLf", {"request", nothing_listens_url, "-X", "GET\r\nX: 1"}, "bad method"},
        HostileCase{"TraceWithData",
                    {"request", nothing_listens_url, "-X", "TRACE", "--data", "x"},
                    "a TRACE request cannot have a body"},
        HostileCase{"DataFromAFolder",
                    {"request", nothing_listens_url, "--data", "@$DIR/a-folder"},
                    "a folder"},
        HostileCase{"CountInScientificNotation",
                    {"request", nothing_listens_url, "--count", "1e3"},
                    "expected a whole number from 1 to 1000000, got '1e3'"},
        HostileCase{"ParallelPastTheCap",
                    {"request", nothing_listens_url, "--parallel", "1000000"},
                    "1000000"},
        HostileCase{"IdleCapPastInt",
                    {"request", nothing_listens_url, "--max-idle-conns", "99999999999"},
                    "99999999999"},
        HostileCase{"DurationPastInt64",
                    {"request", nothing_listens_url, "--connect", "9999999999h"},
                    "9999999999h"},
        HostileCase{"UrlWithCrLf", {"request", "http://127.0.0.1:9/a\r\nInj: 1"}, "bad URL"},
        HostileCase{"UnwritableTimeline",
                    {"request", nothing_listens_url, "--timeline", "/nonexistent/dir/t.svg"},
                    "--timeline"},
        HostileCase{"UnwritableTraceOut",
                    {"request", nothing_listens_url, "--trace-out", "/nonexistent/dir/t.json"},
                    "--trace-out"},
        // run: each file is refused when it loads, at its place, before anything runs.
        HostileCase{"RunWaitForever", {"run", "$DIR/wait.yaml"}, "wait.yaml:1:15"},
        HostileCase{"RunPendingForever", {"run", "$DIR/pending.yaml"}, "step deadline"},
        HostileCase{"RunParallelMillion", {"run", "$DIR/parallel.yaml"}, "parallel.yaml:2:25"},
        HostileCase{"RunBodyPetabytes", {"run", "$DIR/body.yaml"}, "at most 64MiB"},
        HostileCase{"RunHugeHeader", {"run", "$DIR/header.yaml"}, "header.yaml:2:"},
        HostileCase{"RunInjectedHeader", {"run", "$DIR/inject.yaml"}, "invalid header field value"},
        HostileCase{"RunStatus70000", {"run", "$DIR/status.yaml"}, "at most 599"},
        HostileCase{"RunRouteBodyTooBig", {"run", "$DIR/route-size.yaml"}, "at most 16GiB"},
        HostileCase{"RunDuplicateKey", {"run", "$DIR/twice.yaml"}, "duplicate key \"steps\""},
        HostileCase{"RunSecondDocument", {"run", "$DIR/two-docs.yaml"}, "second YAML document"},
        HostileCase{"RunBigFile", {"run", "$DIR/big.yaml"}, "larger than 256 KiB"},
        HostileCase{"RunDeepNesting", {"run", "$DIR/deep.yaml"}, "levels deep"},
        HostileCase{"RunSymlinkLoop", {"run", "$DIR/loop.yaml"}, "a loop of symbolic links"},
        HostileCase{"RunDevNull", {"run", "/dev/null"}, "not a regular file or a folder"},
        HostileCase{"RunFolderWithoutScenarios",
                    {"run", "$DIR/no-yaml"},
                    "$DIR/no-yaml:0:0: no scenario files"},
        // serve: flags that are not what they say.
        HostileCase{"ServeFaultWithCrLf", {"serve", "--fault", "hold-headers=1s\r\nX"}, "--fault"},
        HostileCase{"ServeHugeFault", {"serve", "--fault", huge_value}, "--fault"},
        HostileCase{"ServeBadListen", {"serve", "--listen", "999.1.1.1:80"}, "--listen"},
        HostileCase{"ServeNegativeHeaderTimeout",
                    {"serve", "--header-read-timeout", "-1s"},
                    "--header-read-timeout"}),
    [](const auto& test_info) { return test_info.param.name; });

TEST(HostileInput, UnwritableTraceOutIsFoundBeforeAnyScenarioRuns) {
  TemporaryDirectory directory;
  // A scenario that takes 3 s: refusing the flag after it would take that long.
  const auto file = directory.write("slow.yaml", "step_deadline: 10s\nsteps: [wait: 3s]\n");
  const auto run = run_program({"run", "--trace-out", "/nonexistent/dir/t.json", file});
  EXPECT_EQ(run.exit_code, 2) << run.err;
  EXPECT_NE(run.err.find("--trace-out"), std::string::npos) << run.err;
  EXPECT_LT(run.wall, 2s) << "the flag was checked only after the run";
}

TEST(HostileInput, ControlCharactersInANameReachTheTerminalEscaped) {
  TemporaryDirectory directory;
  const auto file = directory.write(
      "name.yaml", "name: \"evil\\e]0;pwned\\a\\e[2J\"\nabout: \"x\\ey\"\nsteps: [wait: 1ms]\n");
  const auto run = run_program({"run", file});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out.find('\x1b'), std::string::npos) << "raw ESC on stdout";
  EXPECT_EQ(run.err.find('\x1b'), std::string::npos) << "raw ESC on stderr";
  EXPECT_NE(run.out.find("evil\\x1b]0;pwned\\x07\\x1b[2J"), std::string::npos) << run.out;
}

TEST(HostileInput, ServeRemovesItsCaFileOnSighup) {
  test_support::Serve serve(TUNEDHTTP_BINARY, {"--tls"}, true);
  ASSERT_FALSE(serve.ca_path.empty());
  ASSERT_TRUE(std::filesystem::exists(serve.ca_path));
  serve.process().signal(SIGHUP);
  EXPECT_EQ(serve.process().wait(Clock::now() + 5s), 0) << serve.process().err();
  EXPECT_FALSE(std::filesystem::exists(serve.ca_path)) << serve.ca_path << " left behind";
}

}  // namespace
}  // namespace tunedhttp::program::testing
