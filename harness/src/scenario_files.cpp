// Finding scenario files under the paths given to `tunedhttp run`.
#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <tunedhttp/harness/loader.hpp>

namespace tunedhttp::harness {
namespace {

namespace fs = std::filesystem;

// Why `path` is neither a scenario file nor a folder, in words that name the real reason.
std::string not_usable(const fs::path& path) {
  std::error_code error;
  const auto status = fs::status(path, error);
  if (error.value() == ELOOP) return "a loop of symbolic links";
  if (error == std::errc::permission_denied) return "permission denied";
  if (fs::exists(fs::symlink_status(path, error)) && !fs::exists(status)) {
    return "a symbolic link to nothing";
  }
  if (!fs::exists(status)) return "no such scenario file or folder";
  return "not a regular file or a folder (a scenario is a *.yaml file)";
}

// The *.yaml files under `folder`, sorted; an unreadable entry is an error, not a skip.
std::vector<std::string> yaml_files_under(const std::string& folder) {
  std::vector<std::string> found;
  std::error_code error;
  fs::recursive_directory_iterator it(folder, error), end;
  for (; !error && it != end; it.increment(error)) {
    std::error_code kind_error;
    if (it->path().extension() == ".yaml" && it->is_regular_file(kind_error)) {
      found.push_back(it->path().string());
    }
  }
  if (error) throw LoadError({folder, 0, 0}, "cannot read the folder: " + error.message());
  if (found.empty()) throw LoadError({folder, 0, 0}, "no scenario files (*.yaml) in this folder");
  std::sort(found.begin(), found.end());
  return found;
}

}  // namespace

std::vector<std::string> find_scenario_files(const std::vector<std::string>& paths) {
  std::vector<std::string> files;
  for (const auto& path : paths) {
    std::error_code error;
    if (fs::is_regular_file(path, error)) {
      files.push_back(path);
      continue;
    }
    if (!fs::is_directory(path, error)) throw LoadError({path, 0, 0}, not_usable(path));
    const auto found = yaml_files_under(path);
    files.insert(files.end(), found.begin(), found.end());
  }
  return files;
}

}  // namespace tunedhttp::harness
