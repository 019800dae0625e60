#pragma once
// Canned answers that real SDKs parse as a success (`serve --respond-with NAME`).

#include <optional>
#include <string>
#include <tunedhttp/mockserver/route.hpp>
#include <vector>

namespace tunedhttp::mockserver {

/// The route a template answers every request with, or nullopt for an unknown name.
/// Names: `ok` (200 "ok\n", the default), `s3` (S3 PutObject: 200 with an ETag),
/// `lambda` (Lambda Invoke: 200 with a JSON payload).
std::optional<Route> response_template(const std::string& name);

/// The names response_template() knows, for help texts and errors.
std::vector<std::string> response_template_names();

}  // namespace tunedhttp::mockserver
