#pragma once
// Reading scenario files: YAML text → a validated Scenario, or an error naming file:line:column.

#include <stdexcept>
#include <string>
#include <tunedhttp/harness/scenario.hpp>
#include <vector>

namespace tunedhttp::harness {

/// A scenario file that cannot be used: unreadable, not YAML, an unknown key, a bad duration or
/// size, a wrong type, a missing field. what() reads "file:line:column: what is wrong".
class LoadError : public std::runtime_error {
 public:
  LoadError(SourceLocation where, const std::string& problem);
  /// Where the problem is (line and column 0 when the file itself is the problem).
  const SourceLocation& where() const { return where_; }
  /// What is wrong, without the location.
  const std::string& problem() const { return problem_; }

 private:
  SourceLocation where_;
  std::string problem_;
};

/// Loads and validates one scenario file. Throws LoadError.
Scenario load_scenario_file(const std::string& path);

/// Loads a scenario from YAML text; `file` names it in messages and gives the default name.
Scenario load_scenario_text(const std::string& text, const std::string& file);

/// The scenario files named by `paths`: a file as is, a folder searched recursively for
/// `*.yaml` (sorted). Throws LoadError for a path that does not exist.
std::vector<std::string> find_scenario_files(const std::vector<std::string>& paths);

}  // namespace tunedhttp::harness
