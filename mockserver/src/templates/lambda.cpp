// Lambda Invoke: botocore parses a 200 with the function's JSON payload as the result.
#include "templates.hpp"

namespace tunedhttp::mockserver::templates {

Route lambda() {
  Route route;
  route.status = 200;
  route.body = "{\"ok\": true}";
  route.headers["Content-Type"] = "application/json";
  route.headers["X-Amz-Executed-Version"] = "$LATEST";
  return route;
}

}  // namespace tunedhttp::mockserver::templates
