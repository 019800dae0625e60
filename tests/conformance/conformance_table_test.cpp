// Keeps docs/conformance.md honest: every row of its table names a GoogleTest registered in this
// binary, every GoTransport test here has a row, and each row's Go name matches its test's name.
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace {

struct Row {
  int line = 0;
  std::string go_name;
  std::string test_name;  // Suite.Name
  std::string result;
};

std::string trim(std::string text) {
  const auto first = text.find_first_not_of(" \t`");
  if (first == std::string::npos) return {};
  const auto last = text.find_last_not_of(" \t`");
  return text.substr(first, last - first + 1);
}

std::vector<std::string> cells(const std::string& line) {
  std::vector<std::string> out;
  std::string cell;
  for (std::size_t i = 1; i < line.size(); ++i) {
    if (line[i] == '|') {
      out.push_back(trim(cell));
      cell.clear();
    } else {
      cell += line[i];
    }
  }
  return out;
}

// Rows of the table whose header starts with "| Go test |": Go name, checks, our test, result.
std::vector<Row> read_table(const std::string& path) {
  std::ifstream file(path);
  EXPECT_TRUE(file) << "cannot open " << path;
  std::vector<Row> rows;
  bool in_table = false;
  std::string line;
  for (int number = 1; std::getline(file, line); ++number) {
    if (line.rfind("| Go test |", 0) == 0) {
      in_table = true;
      continue;
    }
    if (!in_table) continue;
    if (line.empty() || line[0] != '|') {
      in_table = false;
      continue;
    }
    if (line.rfind("|---", 0) == 0 || line.rfind("| ---", 0) == 0) continue;
    const auto row = cells(line);
    EXPECT_EQ(row.size(), 4u) << path << ":" << number << ": want 4 cells: " << line;
    if (row.size() < 4) continue;
    rows.push_back({number, row[0], row[2], row[3]});
  }
  return rows;
}

std::set<std::string> registered_tests() {
  std::set<std::string> names;
  const auto& unit = *::testing::UnitTest::GetInstance();
  for (int i = 0; i < unit.total_test_suite_count(); ++i) {
    const auto& suite = *unit.GetTestSuite(i);
    for (int j = 0; j < suite.total_test_count(); ++j) {
      names.insert(std::string(suite.name()) + "." + suite.GetTestInfo(j)->name());
    }
  }
  return names;
}

TEST(ConformanceTable, EveryRowNamesARegisteredTest) {
  const auto rows = read_table(TUNEDHTTP_CONFORMANCE_TABLE);
  ASSERT_FALSE(rows.empty()) << "no table rows in " << TUNEDHTTP_CONFORMANCE_TABLE;
  const auto tests = registered_tests();
  std::set<std::string> go_names;
  for (const auto& row : rows) {
    SCOPED_TRACE(std::string(TUNEDHTTP_CONFORMANCE_TABLE) + ":" + std::to_string(row.line));
    EXPECT_TRUE(tests.count(row.test_name)) << "no test " << row.test_name;
    EXPECT_TRUE(go_names.insert(row.go_name).second) << "two rows for " << row.go_name;
    EXPECT_EQ(row.test_name, "GoTransport." + row.go_name) << "test named after the Go test";
    const bool known = row.result.rfind("passes", 0) == 0 ||
                       row.result.rfind("differs on purpose:", 0) == 0 ||
                       row.result.rfind("fails: bug", 0) == 0;
    EXPECT_TRUE(known) << "result must start with passes / differs on purpose: / fails: bug, got "
                       << row.result;
  }
  for (const auto& test : tests) {
    if (test.rfind("GoTransport.", 0) != 0) continue;
    EXPECT_TRUE(go_names.count(test.substr(12))) << test << " has no row in the table";
  }
}

}  // namespace
