// The runner must be able to say no: wrong-on-purpose scenarios fail, with the reason.
#include <gtest/gtest.h>

#include <filesystem>
#include <tunedhttp/harness/loader.hpp>
#include <tunedhttp/harness/runner.hpp>

namespace tunedhttp::harness {
namespace {

std::string all_failures(const ScenarioResult& result) {
  std::string text;
  for (const auto& failure : result.failures) text += failure + "\n";
  return text;
}

ScenarioResult run_file(const std::string& name) {
  return run_scenario(load_scenario_file(std::string(TUNEDHTTP_TEST_DATA "/") + name));
}

TEST(Runner, FailsWhenTheTimeoutCannotFire) {
  const auto result = run_file("wrong/cannot_fire.yaml");
  EXPECT_FALSE(result.passed);
  EXPECT_NE(all_failures(result).find("got status 200; want error response_header_timeout"),
            std::string::npos)
      << all_failures(result);
}

TEST(Runner, FailsWhenItFiresLaterThanExpected) {
  const auto result = run_file("wrong/wrong_time.yaml");
  EXPECT_FALSE(result.passed);
  ASSERT_EQ(result.timings.size(), 1u) << all_failures(result);
  EXPECT_FALSE(result.timings[0].passed);
  EXPECT_GE(result.timings[0].fired_at, std::chrono::milliseconds{600});
  EXPECT_NE(all_failures(result).find("late by"), std::string::npos) << all_failures(result);
}

TEST(Runner, FailsWhenItFiresEarlierThanExpected) {
  const auto result = run_file("wrong/too_early.yaml");
  EXPECT_FALSE(result.passed);
  ASSERT_EQ(result.timings.size(), 1u) << all_failures(result);
  EXPECT_NE(all_failures(result).find("early by"), std::string::npos) << all_failures(result);
}

TEST(Runner, PassesAndMeasuresFromTheGoverningTracePoint) {
  const auto result = run_file("good/fires.yaml");
  EXPECT_TRUE(result.passed) << all_failures(result);
  ASSERT_EQ(result.timings.size(), 1u);
  EXPECT_EQ(result.timings[0].setting, SettingId::response_header);
  EXPECT_GE(result.timings[0].fired_at, std::chrono::milliseconds{200});
}

TEST(Runner, GivesUpOnAStepPastItsDeadline) {
  // Nothing limits the wait for headers held forever: the step deadline must end it.
  const auto scenario = load_scenario_text(R"(
step_deadline: 300ms
server:
  faults:
    - hold_headers: {}
steps:
  - request: {path: /}
    expect: {status: 200}
  - expect_pool: {dials: 99}
)",
                                           "deadline.yaml");
  const auto began = std::chrono::steady_clock::now();
  const auto result = run_scenario(scenario);
  EXPECT_LT(std::chrono::steady_clock::now() - began, std::chrono::seconds{5});
  EXPECT_FALSE(result.passed);
  ASSERT_EQ(result.failures.size(), 1u) << all_failures(result);  // later steps are skipped
  EXPECT_NE(result.failures[0].find("got no completion within"), std::string::npos);
}

}  // namespace
}  // namespace tunedhttp::harness

namespace tunedhttp::harness {
namespace {

// Every file under data/wrong/ is wrong on purpose: each must fail, with a reason.
class WrongOnPurpose : public testing::TestWithParam<std::string> {};

TEST_P(WrongOnPurpose, Fails) {
  const auto result = run_scenario(load_scenario_file(GetParam()));
  EXPECT_FALSE(result.passed) << GetParam() << ": got pass; want fail";
  EXPECT_FALSE(result.failures.empty());
}

INSTANTIATE_TEST_SUITE_P(Scenarios, WrongOnPurpose,
                         testing::ValuesIn(find_scenario_files({TUNEDHTTP_TEST_DATA "/wrong"})),
                         [](const testing::TestParamInfo<std::string>& param_info) {
                           return std::filesystem::path(param_info.param).stem().string();
                         });

}  // namespace
}  // namespace tunedhttp::harness
