# tunedhttp_add_test(NAME SOURCES... [LIBRARIES ...] [LABELS ...])
# One GoogleTest executable whose cases are registered with ctest one by one, labelled LABELS.
function(tunedhttp_add_test name)
  cmake_parse_arguments(arg "" "" "SOURCES;LIBRARIES;LABELS" ${ARGN})
  add_executable(${name} ${arg_SOURCES})
  target_link_libraries(${name} PRIVATE ${arg_LIBRARIES} GTest::gtest GTest::gtest_main
                                        tunedhttp::compile_options)
  # One label per suite (its module): gtest_discover_tests flattens a list of labels.
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 30 PROPERTIES LABELS "${arg_LABELS}" TIMEOUT 60)
endfunction()

if(BUILD_TESTING)
  find_package(GTest REQUIRED)
  include(GoogleTest)
endif()
