// `tunedhttp run --compare go`: the verdict on a pair of results, and the report a person reads.
#include <gtest/gtest.h>

#include <tunedhttp/harness/report.hpp>

namespace tunedhttp::harness {
namespace {

ScenarioResult result(bool passed, const char* peer, std::string error = "") {
  ScenarioResult r;
  r.name = "connect/x";
  r.file = "scenarios/connect/x.yaml";
  r.passed = passed;
  r.peer = peer;
  r.first_error = std::move(error);
  if (!passed) r.failures.push_back("f.yaml:3:5: got status 200; want error connect_timeout");
  return r;
}

TEST(Compare, VerdictsFollowOursGoAndTheDeclaration) {
  EXPECT_EQ(compare_results(result(true, "tunedhttp"), result(true, "go"), {}).verdict, "agree");
  EXPECT_TRUE(compare_results(result(true, "tunedhttp"), result(true, "go"), {}).ok);
  const auto differs = compare_results(result(true, "tunedhttp"), result(false, "go"), {});
  EXPECT_EQ(differs.verdict, "differs");
  EXPECT_FALSE(differs.ok) << "an undeclared difference fails the comparison";
  const auto declared =
      compare_results(result(true, "tunedhttp"), result(false, "go"), std::string("Go 1.19 rule"));
  EXPECT_EQ(declared.verdict, "differs on purpose");
  EXPECT_TRUE(declared.ok);
  const auto ours_fails =
      compare_results(result(false, "tunedhttp"), result(true, "go"), std::string("any"));
  EXPECT_EQ(ours_fails.verdict, "fails");
  EXPECT_FALSE(ours_fails.ok) << "a declaration does not excuse our own failure";
}

TEST(Compare, TheTableShowsBothSidesAndWhyAPairDiffers) {
  std::vector<Comparison> pairs;
  pairs.push_back(
      compare_results(result(true, "tunedhttp", "connect_timeout"), result(false, "go"), {}));
  const std::string table = format_comparison_table(pairs);
  EXPECT_NE(table.find("connect_timeout"), std::string::npos) << table;
  EXPECT_NE(table.find("differs: connect/x"), std::string::npos) << table;
  EXPECT_NE(table.find("go: f.yaml:3:5"), std::string::npos) << table;
  EXPECT_NE(table.find("0 passed, 1 failed, 1 scenarios compared with Go"), std::string::npos)
      << table;
  const std::string json = format_comparison_json(pairs);
  EXPECT_NE(json.find("\"verdict\": \"differs\""), std::string::npos) << json;
}

}  // namespace
}  // namespace tunedhttp::harness
