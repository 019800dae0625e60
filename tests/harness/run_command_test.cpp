// `tunedhttp run`: exit codes 0/1/2 and the JSON report, field by field.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

namespace {

struct Ran {
  int exit_code = -1;
  std::string out;  // stdout (stderr goes to a temporary file)
};

Ran run_program(const std::string& arguments) {
  const std::string command = std::string(TUNEDHTTP_PROGRAM) + " " + arguments + " 2>/dev/null";
  Ran ran;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return ran;
  std::array<char, 4096> buffer{};
  while (std::size_t n = fread(buffer.data(), 1, buffer.size(), pipe))
    ran.out.append(buffer.data(), n);
  const int status = pclose(pipe);
  ran.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return ran;
}

const std::string data = TUNEDHTTP_TEST_DATA;

TEST(RunCommand, ExitsZeroWhenAllPass) {
  const Ran ran = run_program("run " + data + "/good");
  EXPECT_EQ(ran.exit_code, 0) << ran.out;
  EXPECT_NE(ran.out.find("scenario"), std::string::npos);
  EXPECT_NE(ran.out.find("lateness"), std::string::npos);
  EXPECT_NE(ran.out.find("good/fires"), std::string::npos);
}

TEST(RunCommand, ExitsOneWhenAnyFails) {
  const Ran ran = run_program("run " + data + "/good " + data + "/wrong/cannot_fire.yaml");
  EXPECT_EQ(ran.exit_code, 1) << ran.out;
  EXPECT_NE(ran.out.find("FAIL"), std::string::npos) << ran.out;
}

TEST(RunCommand, ExitsTwoOnBadInputNamingFileLineColumn) {
  const std::string file = data + "/broken/bad_duration.yaml";
  const std::string command = std::string(TUNEDHTTP_PROGRAM) + " run " + file + " 2>&1 >/dev/null";
  FILE* pipe = popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string err;
  std::array<char, 4096> buffer{};
  while (std::size_t n = fread(buffer.data(), 1, buffer.size(), pipe)) err.append(buffer.data(), n);
  const int status = pclose(pipe);
  EXPECT_EQ(WEXITSTATUS(status), 2);
  EXPECT_NE(err.find(file + ":2:20: client.response_header: bad duration '2 seconds'"),
            std::string::npos)
      << err;
  EXPECT_EQ(run_program("run /nonexistent/scenarios").exit_code, 2);
  EXPECT_EQ(run_program("run --no-such-flag").exit_code, 2);
}

TEST(RunCommand, JsonReportFieldByField) {
  const Ran ran =
      run_program("run --json " + data + "/good/fires.yaml " + data + "/wrong/cannot_fire.yaml");
  EXPECT_EQ(ran.exit_code, 1);
  const auto report = nlohmann::json::parse(ran.out);  // stdout is the JSON document only
  EXPECT_EQ(report.at("passed"), false);
  EXPECT_EQ(report.at("total"), 2);
  EXPECT_EQ(report.at("failed"), 1);
  const auto& scenarios = report.at("scenarios");
  ASSERT_EQ(scenarios.size(), 2u);

  const auto& fires = scenarios[0];
  EXPECT_EQ(fires.at("name"), "good/fires");
  EXPECT_EQ(fires.at("file"), data + "/good/fires.yaml");
  EXPECT_EQ(fires.at("group"), "good");
  EXPECT_EQ(fires.at("result"), "pass");
  EXPECT_EQ(fires.at("configured"), "response_header=200ms");
  EXPECT_GT(fires.at("elapsed_ms").get<double>(), 0.0);
  EXPECT_TRUE(fires.at("failures").empty());
  ASSERT_EQ(fires.at("timings").size(), 1u);
  const auto& timing = fires.at("timings")[0];
  EXPECT_EQ(timing.at("timer"), "response_header");
  EXPECT_DOUBLE_EQ(timing.at("configured_ms").get<double>(), 200.0);
  const double fired = timing.at("fired_at_ms").get<double>();
  const double tolerance = timing.at("tolerance_ms").get<double>();
  EXPECT_GE(fired, 200.0);
  EXPECT_LE(fired, 200.0 + tolerance);
  EXPECT_NEAR(timing.at("lateness_ms").get<double>(), fired - 200.0, 1e-6);
  EXPECT_GT(tolerance, 0.0);
  EXPECT_EQ(timing.at("passed"), true);

  const auto& wrong = scenarios[1];
  EXPECT_EQ(wrong.at("name"), "wrong/cannot_fire");
  EXPECT_EQ(wrong.at("result"), "fail");
  ASSERT_EQ(wrong.at("failures").size(), 1u);
  const std::string failure = wrong.at("failures")[0];
  EXPECT_NE(failure.find("cannot_fire.yaml:6:5: got status 200; want error "
                         "response_header_timeout"),
            std::string::npos)
      << failure;
  EXPECT_TRUE(wrong.at("timings").empty());
}

}  // namespace
