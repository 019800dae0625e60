# cmake --install of the build tree into WORK_DIR/prefix, then a consumer project built against it
# with find_package(tunedhttp), run, and a one-file build with pkg-config.
include(${CMAKE_CURRENT_LIST_DIR}/run_step.cmake)
foreach(required IN ITEMS BUILD_DIR CONSUMER_SOURCE WORK_DIR VERSION CMAKE_GENERATOR)
  if(NOT DEFINED ${required})
    message(FATAL_ERROR "-D${required}=... is required")
  endif()
endforeach()

set(prefix ${WORK_DIR}/prefix)
file(REMOVE_RECURSE ${prefix} ${WORK_DIR}/build)
run_step("install" COMMAND ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${prefix})

# What must be there.
file(GLOB_RECURSE config_files ${prefix}/*/tunedhttpConfig.cmake)
file(GLOB_RECURSE pc_files ${prefix}/*/tunedhttp.pc)
foreach(expected IN ITEMS include/tunedhttp/client.hpp include/tunedhttp/mockserver/server.hpp
                          include/tunedhttp/units.hpp include/tunedhttp/testing/fixture.hpp
                          bin/tunedhttp)
  if(NOT EXISTS ${prefix}/${expected})
    message(FATAL_ERROR "got no ${expected} in the installed tree; want it installed")
  endif()
endforeach()
if(NOT config_files OR NOT pc_files)
  message(FATAL_ERROR "got config '${config_files}', pc '${pc_files}'; want both installed")
endif()

# The installed program reports the project's version.
run_step("tunedhttp --version" COMMAND ${prefix}/bin/tunedhttp --version OUTPUT_VARIABLE version_text)
if(NOT version_text MATCHES "${VERSION}")
  message(FATAL_ERROR "got '${version_text}' from tunedhttp --version; want ${VERSION}")
endif()

# The consumer: find_package(tunedhttp <version> COMPONENTS testing) with only this prefix.
set(configure_args -S ${CONSUMER_SOURCE} -B ${WORK_DIR}/build -G ${CMAKE_GENERATOR}
    -DCMAKE_PREFIX_PATH=${prefix} -DTUNEDHTTP_EXPECTED_VERSION=${VERSION})
if(CMAKE_CXX_COMPILER)
  list(APPEND configure_args -DCMAKE_CXX_COMPILER=${CMAKE_CXX_COMPILER})
endif()
if(BUILD_TYPE)
  list(APPEND configure_args -DCMAKE_BUILD_TYPE=${BUILD_TYPE})
endif()
run_step("configure consumer" COMMAND ${CMAKE_COMMAND} ${configure_args})
run_step("build consumer" COMMAND ${CMAKE_COMMAND} --build ${WORK_DIR}/build -j2)
run_step("run consumer" COMMAND ${WORK_DIR}/build/consumer)

# pkg-config: a units-only program compiled and linked from the .pc file's flags.
find_program(PKG_CONFIG pkg-config)
find_program(CXX NAMES ${CMAKE_CXX_COMPILER} c++ g++)
if(PKG_CONFIG AND CXX)
  list(GET pc_files 0 pc_file)
  get_filename_component(pc_dir ${pc_file} DIRECTORY)
  set(ENV{PKG_CONFIG_PATH} ${pc_dir})
  run_step("pkg-config" COMMAND ${PKG_CONFIG} --cflags --libs tunedhttp OUTPUT_VARIABLE flags)
  string(STRIP "${flags}" flags)
  separate_arguments(flags UNIX_COMMAND "${flags}")
  run_step("build with pkg-config"
           COMMAND ${CXX} -std=c++20 ${CONSUMER_SOURCE}/pkg_config_consumer.cpp ${flags}
                   -o ${WORK_DIR}/pkg_config_consumer)
  run_step("run pkg-config consumer" COMMAND ${WORK_DIR}/pkg_config_consumer)
endif()
