#pragma once
// One function per response template, one file each; registered in response_template.cpp.

#include <tunedhttp/mockserver/route.hpp>

namespace tunedhttp::mockserver::templates {

Route s3();
Route lambda();

}  // namespace tunedhttp::mockserver::templates
