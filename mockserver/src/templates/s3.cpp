// S3 PutObject: botocore needs a 200 and reads the ETag header (the MD5 of an empty object).
#include "templates.hpp"

namespace tunedhttp::mockserver::templates {

Route s3() {
  Route route;
  route.status = 200;
  route.body.clear();
  route.headers["ETag"] = "\"d41d8cd98f00b204e9800998ecf8427e\"";
  route.headers["x-amz-request-id"] = "TUNEDHTTP0000001";
  return route;
}

}  // namespace tunedhttp::mockserver::templates
