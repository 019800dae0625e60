// The settings table: every row well formed, its flag and name unique, its default read back
// through its own rules, and a timeout row's error a timeout.
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <tunedhttp/settings_table.hpp>

namespace tunedhttp {
namespace {

TEST(SettingsTable, NamesAndFlagsAreUnique) {
  std::set<std::string_view> names;
  std::set<std::string_view> flags;
  for (const auto& row : settings_table) {
    EXPECT_TRUE(names.insert(row.name).second) << "got " << row.name << " twice";
    EXPECT_TRUE(flags.insert(row.flag).second) << "got " << row.flag << " twice";
    EXPECT_TRUE(row.flag.starts_with("--")) << row.name << ": got flag " << row.flag;
    EXPECT_FALSE(row.go_name.empty()) << row.name;
    EXPECT_FALSE(row.zero.empty()) << row.name << ": got no rule for 0";
    EXPECT_FALSE(row.negative.empty()) << row.name << ": got no rule for negative values";
    EXPECT_EQ(find_setting(row.name), &row) << row.name;
  }
}

TEST(SettingsTable, DefaultsReadBackThroughTheirOwnRules) {
  for (const auto& row : settings_table) {
    Settings settings;
    EXPECT_EQ(set_from_text(settings, row, default_text(row)), "") << row.name;
    EXPECT_EQ(value_text(settings, row), default_text(row)) << row.name;
  }
}

TEST(SettingsTable, BadTextSaysWhatIsWrong) {
  Settings settings;
  EXPECT_NE(set_from_text(settings, setting_row(SettingId::connect), "200 ms").find("bad duration"),
            std::string::npos);
  EXPECT_NE(set_from_text(settings, setting_row(SettingId::keep_alive_count), "128")
                .find("from -1 to 127"),
            std::string::npos);
  EXPECT_NE(set_from_text(settings, setting_row(SettingId::max_all_idle_conns), "many")
                .find("expected a whole number, got 'many'"),
            std::string::npos);
  EXPECT_EQ(settings.connect, Settings{}.connect) << "a refused value changed the setting";
}

TEST(SettingsTable, WritingABlockMemberEnablesTheBlock) {
  Settings settings;
  ASSERT_EQ(set_from_text(settings, setting_row(SettingId::keep_alive_idle), "5s"), "");
  EXPECT_TRUE(settings.keep_alive.enable);
  EXPECT_EQ(settings.keep_alive.idle, std::chrono::seconds{5});
}

TEST(SettingsTable, TimeoutRowsStartAtATracePointAndAreTimeouts) {
  for (const auto& row : settings_table) {
    if (!row.timeout) continue;
    EXPECT_TRUE(row.starts.has_value()) << row.name;
    EXPECT_GT(row.stop_count, 0u) << row.name;
    EXPECT_EQ(setting_of_timeout(*row.timeout), &row) << row.name;
    EXPECT_EQ(make_error_code(*row.timeout), boost::system::errc::timed_out) << row.name;
  }
  EXPECT_EQ(setting_of_timeout(errc::invalid_url), nullptr);
}

}  // namespace
}  // namespace tunedhttp
