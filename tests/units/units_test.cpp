#include <gtest/gtest.h>

#include <tunedhttp/units.hpp>

using namespace std::chrono_literals;

namespace tunedhttp {
namespace {

TEST(ParseDuration, AcceptsGoSyntax) {
  EXPECT_EQ(parse_duration("250ms"), std::chrono::nanoseconds{250ms});
  EXPECT_EQ(parse_duration("1.5s"), std::chrono::nanoseconds{1500ms});
  EXPECT_EQ(parse_duration("2m"), std::chrono::nanoseconds{120s});
  EXPECT_EQ(parse_duration("1m30s"), std::chrono::nanoseconds{90s});
  EXPECT_EQ(parse_duration("1h"), std::chrono::nanoseconds{3600s});
  EXPECT_EQ(parse_duration("10us"), std::chrono::nanoseconds{10us});
  EXPECT_EQ(parse_duration("7ns"), std::chrono::nanoseconds{7});
  EXPECT_EQ(parse_duration("0"), std::chrono::nanoseconds{0});
  EXPECT_EQ(parse_duration("-1s"), std::chrono::nanoseconds{-1s});
  EXPECT_EQ(parse_duration(".5s"), std::chrono::nanoseconds{500ms});
}

TEST(ParseDuration, RejectsWhatGoRejects) {
  for (const char* text : {"", "1", "ms", "1x", "1.5", "--1s", "1s2", "1..5s", "s1", " 1s"}) {
    EXPECT_FALSE(parse_duration(text).has_value()) << "got a value for '" << text << "'";
  }
  EXPECT_FALSE(parse_duration("99999999999h").has_value());
}

TEST(FormatDuration, PicksAReadableUnit) {
  EXPECT_EQ(format_duration(250ms), "250ms");
  EXPECT_EQ(format_duration(1500ms), "1.5s");
  EXPECT_EQ(format_duration(37us), "37us");
  EXPECT_EQ(format_duration(std::chrono::nanoseconds{0}), "0ns");
}

TEST(ParseSize, AcceptsUnits) {
  EXPECT_EQ(parse_size("64KiB"), 64u * 1024);
  EXPECT_EQ(parse_size("1MiB"), 1024u * 1024);
  EXPECT_EQ(parse_size("512"), 512u);
  EXPECT_EQ(parse_size("3B"), 3u);
  EXPECT_EQ(parse_size("2kB"), 2000u);
  EXPECT_EQ(parse_size("1GB"), 1000000000u);
}

TEST(ParseSize, RejectsGarbage) {
  for (const char* text : {"", "KiB", "1 KiB", "-1", "1kib", "1.5MiB", "99999999999999999999"}) {
    EXPECT_FALSE(parse_size(text).has_value()) << "got a value for '" << text << "'";
  }
}

}  // namespace
// The one timing rule: never early, late by at most the tolerance (both bounds included).
TEST(TimingProblem, NeverEarlyAndAtMostToleranceLate) {
  using std::chrono::milliseconds;
  EXPECT_EQ(tunedhttp::timing_problem(milliseconds{200}, milliseconds{200}, milliseconds{100}), "");
  EXPECT_EQ(tunedhttp::timing_problem(milliseconds{200}, milliseconds{300}, milliseconds{100}), "");
  EXPECT_EQ(tunedhttp::timing_problem(milliseconds{200}, milliseconds{180}, milliseconds{100}),
            "fired at 180ms; want >= 200ms (early by 20ms)");
  EXPECT_EQ(tunedhttp::timing_problem(milliseconds{200}, milliseconds{320}, milliseconds{100}),
            "fired at 320ms; want <= 300ms (200ms + tolerance 100ms, late by 120ms)");
}

}  // namespace tunedhttp
