// Finding scenario files under the paths given to `tunedhttp run`.
#include <algorithm>
#include <filesystem>
#include <tunedhttp/harness/loader.hpp>

namespace tunedhttp::harness {

std::vector<std::string> find_scenario_files(const std::vector<std::string>& paths) {
  namespace fs = std::filesystem;
  std::vector<std::string> files;
  for (const auto& path : paths) {
    std::error_code error;
    if (fs::is_regular_file(path, error)) {
      files.push_back(path);
      continue;
    }
    if (!fs::is_directory(path, error)) {
      throw LoadError({path, 0, 0}, "no such scenario file or folder");
    }
    std::vector<std::string> found;
    for (const auto& entry : fs::recursive_directory_iterator(path)) {
      if (entry.is_regular_file() && entry.path().extension() == ".yaml") {
        found.push_back(entry.path().string());
      }
    }
    std::sort(found.begin(), found.end());
    files.insert(files.end(), found.begin(), found.end());
  }
  return files;
}

}  // namespace tunedhttp::harness
