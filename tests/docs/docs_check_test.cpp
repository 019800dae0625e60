// The docs check: sections for every setting and fault, scenario paths that exist, and timeline
// pictures that are not stale. Pictures are compared by their set of element ids (lanes, trace
// points, server events, phases, limits), not by coordinates, which change from run to run
// (docs/settings.md, "How the docs check compares pictures").
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <tunedhttp/mockserver/fault_config.hpp>
#include <tunedhttp/settings_table.hpp>
#include <vector>

namespace {

namespace fs = std::filesystem;
const fs::path source_dir = TUNEDHTTP_SOURCE_DIR;

std::string read(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The text of the section whose "## " heading starts with `heading`, up to the next "## ".
std::string section(const std::string& document, const std::string& heading) {
  std::istringstream lines(document);
  std::string line;
  std::string text;
  bool inside = false;
  while (std::getline(lines, line)) {
    if (line.rfind("## ", 0) == 0) {
      if (inside) break;
      inside = line.rfind("## " + heading, 0) == 0 &&
               (line.size() == 3 + heading.size() || line[3 + heading.size()] == ' ');
    }
    if (inside) text += line + "\n";
  }
  return text;
}

std::set<std::string> matches(const std::string& text, const std::regex& pattern, int group) {
  std::set<std::string> found;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), pattern);
       it != std::sregex_iterator(); ++it) {
    found.insert((*it)[group].str());
  }
  return found;
}

// Every row of the settings table has its section in docs/settings.md (a member of a block or
// an extension of a setting may share its parent's), naming its flag and its rules for 0 and
// negative values; a setting with a section of its own also has its defaults, an example,
// scenarios and a timeline picture.
TEST(Docs, EverySettingHasItsSection) {
  const std::string document = read(source_dir / "docs/settings.md");
  ASSERT_FALSE(document.empty()) << "docs/settings.md is missing";
  for (const auto& row : tunedhttp::settings_table) {
    const std::string name(row.name);
    const std::string flag(row.flag);
    const std::string text = section(document, "`" + std::string(row.doc_section) + "`");
    if (text.empty()) {
      ADD_FAILURE() << "docs/settings.md: got no section '## `" << row.doc_section << "`' for "
                    << name << "; want one";
      continue;
    }
    EXPECT_NE(text.find(flag + " "), std::string::npos)
        << "docs/settings.md, " << name << ": got no flag " << flag;
    EXPECT_NE(text.find("**0**"), std::string::npos)
        << "docs/settings.md, " << name << ": got no rule for 0";
    EXPECT_NE(text.find("**negative**"), std::string::npos)
        << "docs/settings.md, " << name << ": got no rule for negative values";
    if (row.doc_section != row.name) {
      const std::string member(name.substr(name.find('.') + 1));
      EXPECT_NE(text.find(member), std::string::npos)
          << "docs/settings.md, section " << row.doc_section << ": got no mention of " << name;
      continue;
    }
    EXPECT_NE(text.find("| default |"), std::string::npos)
        << "docs/settings.md, " << name << ": got no defaults table (Go | AWS SDK | tunedhttp)";
    EXPECT_NE(text.find("tunedhttp request"), std::string::npos)
        << "docs/settings.md, " << name << ": got no `tunedhttp request` example";
    EXPECT_NE(text.find("scenarios/" + name + "/"), std::string::npos)
        << "docs/settings.md, " << name << ": got no scenario that proves it";
    EXPECT_NE(text.find("](timelines/" + name + "--"), std::string::npos)
        << "docs/settings.md, " << name << ": got no timeline picture of its own scenario";
  }
}

TEST(Docs, EveryFaultHasItsSection) {
  const std::string document = read(source_dir / "docs/faults.md");
  ASSERT_FALSE(document.empty()) << "docs/faults.md is missing";
  for (const auto& name : tunedhttp::mockserver::fault_names()) {
    EXPECT_FALSE(section(document, name).empty())
        << "docs/faults.md: got no section '## " << name << " ...'; want one per fault";
  }
}

TEST(Docs, EveryScenarioNamedInTheDocsExists) {
  const std::regex scenario_path(R"(scenarios/[A-Za-z0-9_./-]+\.yaml)");
  std::vector<fs::path> documents{source_dir / "README.md"};
  for (const auto& entry : fs::directory_iterator(source_dir / "docs")) {
    if (entry.path().extension() == ".md") documents.push_back(entry.path());
  }
  int named = 0;
  for (const auto& document : documents) {
    for (const auto& path : matches(read(document), scenario_path, 0)) {
      ++named;
      EXPECT_TRUE(fs::exists(source_dir / path)) << fs::relative(document, source_dir).string()
                                                 << " names " << path << ", which does not exist";
    }
  }
  EXPECT_GT(named, 8);
}

// The element ids of an SVG: what is drawn, without where. Left out: the server's closed_by_peer
// and closed_by_server events, because a scenario ends as soon as its last step is checked, and
// whether the server had logged a close in that instant is a race, not a change.
std::set<std::string> element_ids(const std::string& svg) {
  std::set<std::string> ids = matches(svg, std::regex(R"re(\sid="([^"]+)")re"), 1);
  const std::regex racy(R"((label-)?s[0-9]+-closed_by_(peer|server)-r[0-9]+(-[0-9]+)?)");
  for (auto it = ids.begin(); it != ids.end();) {
    it = std::regex_match(*it, racy) ? ids.erase(it) : std::next(it);
  }
  return ids;
}

TEST(Docs, TimelinePicturesAreFresh) {
  const std::string document =
      read(source_dir / "docs/settings.md") + read(source_dir / "docs/proxies.md");
  const auto pictures =
      matches(document, std::regex(R"(\]\(timelines/([A-Za-z0-9_.-]+\.svg)\))"), 1);
  ASSERT_FALSE(pictures.empty()) << "docs/settings.md references no timeline pictures";

  // picture "group--name.svg" is drawn from scenarios/group/name.yaml
  std::string scenario_files;
  for (const auto& picture : pictures) {
    std::string name = picture.substr(0, picture.size() - 4);
    for (auto at = name.find("--"); at != std::string::npos; at = name.find("--")) {
      name.replace(at, 2, "/");
    }
    const std::string file = "scenarios/" + name + ".yaml";
    ASSERT_TRUE(fs::exists(source_dir / file))
        << "docs/timelines/" << picture << " is drawn from " << file << ", which does not exist";
    scenario_files += " " + file;
  }
  const std::string regenerate =
      "./build/harness/tunedhttp run --timeline docs/timelines" + scenario_files;

  const fs::path fresh =
      fs::temp_directory_path() / ("tunedhttp-docs-" + std::to_string(::getpid()));
  fs::remove_all(fresh);
  const std::string command = "cd '" + source_dir.string() + "' && '" + TUNEDHTTP_PROGRAM +
                              "' run --timeline '" + fresh.string() + "'" + scenario_files +
                              " >/dev/null 2>&1";
  ASSERT_EQ(std::system(command.c_str()), 0)
      << "a scenario drawn in docs/settings.md or docs/proxies.md fails, so its picture cannot be "
         "checked: "
      << command;

  for (const auto& picture : pictures) {
    const fs::path committed = source_dir / "docs/timelines" / picture;
    if (!fs::exists(committed)) {
      ADD_FAILURE() << "docs/timelines/" << picture << " is missing; regenerate with:\n  "
                    << regenerate;
      continue;
    }
    const auto want = element_ids(read(fresh / picture));
    const auto got = element_ids(read(committed));
    if (got == want) continue;
    std::string only_committed;
    std::string only_fresh;
    for (const auto& id : got) {
      if (want.count(id) == 0) only_committed += " " + id;
    }
    for (const auto& id : want) {
      if (got.count(id) == 0) only_fresh += " " + id;
    }
    ADD_FAILURE() << "docs/timelines/" << picture << " is stale: elements only in the committed "
                  << "picture:" << (only_committed.empty() ? " none" : only_committed)
                  << "; only in today's run:" << (only_fresh.empty() ? " none" : only_fresh)
                  << "\nregenerate with:\n  " << regenerate;
  }
  fs::remove_all(fresh);
}

}  // namespace
