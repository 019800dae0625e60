# Installation, the CMake package (find_package(tunedhttp)), the pkg-config file and the Debian
# package (CPack DEB). Included at the end of the top-level CMakeLists.txt, after every module,
# so it installs the targets the modules made, by name; modules left out of TUNEDHTTP_MODULES are
# skipped.
#
# Installed:  include/tunedhttp/...                    public headers of the installed libraries
#             lib/libtunedhttp_*.a                      the static libraries
#             lib/cmake/tunedhttp/                      tunedhttpConfig.cmake, version, targets
#             lib/pkgconfig/tunedhttp.pc                for builds without CMake
#             bin/tunedhttp                             the program (run, serve, request)
# Targets for consumers: tunedhttp::client, tunedhttp::mockserver, tunedhttp::units,
# tunedhttp::program, and with the `testing` component (needs GoogleTest) tunedhttp::testing.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

# A project that adds tunedhttp with add_subdirectory does not install it unless it asks to.
option(TUNEDHTTP_INSTALL "Generate the install rules and the CPack package" ${PROJECT_IS_TOP_LEVEL})
if(NOT TUNEDHTTP_INSTALL)
  return()
endif()

set(TUNEDHTTP_CONFIG_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/tunedhttp)

# Library target → its name in the package (tunedhttp::<name>) and its module folder.
# The harness library is not installed: it needs yaml-cpp and is the program's engine, not an API.
# tunedhttp_compile_options is exported because static libraries' private link dependencies
# appear in the export as $<LINK_ONLY:...>; only its link options (sanitizers) reach consumers.
set(tunedhttp_installed_targets)
foreach(entry IN ITEMS compile_options:cmake asio_beast:asio_beast units:units client:client
                       mockserver:mockserver)
  string(REPLACE ":" ";" entry "${entry}")
  list(GET entry 0 name)
  list(GET entry 1 module)
  if(NOT TARGET tunedhttp_${name})
    continue()
  endif()
  set_target_properties(tunedhttp_${name} PROPERTIES EXPORT_NAME ${name})
  list(APPEND tunedhttp_installed_targets tunedhttp_${name})
  if(EXISTS ${PROJECT_SOURCE_DIR}/${module}/include/)
    install(DIRECTORY ${PROJECT_SOURCE_DIR}/${module}/include/
            DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT development)
  endif()
endforeach()
if(TARGET tunedhttp)
  set_target_properties(tunedhttp PROPERTIES EXPORT_NAME program)
  list(APPEND tunedhttp_installed_targets tunedhttp)
endif()

install(TARGETS ${tunedhttp_installed_targets} EXPORT tunedhttpTargets
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT runtime
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT development
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT development
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT tunedhttpTargets NAMESPACE tunedhttp:: DESTINATION ${TUNEDHTTP_CONFIG_DESTINATION}
        COMPONENT development)

# tunedhttp::testing (a header-only GoogleTest helper) has its own export set, so that the
# package needs GoogleTest only when a consumer asks for the `testing` component.
if(TARGET tunedhttp_testing)
  set_target_properties(tunedhttp_testing PROPERTIES EXPORT_NAME testing)
  install(TARGETS tunedhttp_testing EXPORT tunedhttpTestingTargets
          INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/testing/include/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
          COMPONENT development)
  install(EXPORT tunedhttpTestingTargets NAMESPACE tunedhttp::
          DESTINATION ${TUNEDHTTP_CONFIG_DESTINATION} COMPONENT development)
endif()

configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/tunedhttpConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/tunedhttpConfig.cmake
                              INSTALL_DESTINATION ${TUNEDHTTP_CONFIG_DESTINATION})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/tunedhttpConfigVersion.cmake
                                 VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/tunedhttpConfig.cmake
              ${PROJECT_BINARY_DIR}/tunedhttpConfigVersion.cmake
        DESTINATION ${TUNEDHTTP_CONFIG_DESTINATION} COMPONENT development)

# pkg-config: the libraries in link order, the separate-compilation definitions the headers need.
# The prefix is found relative to the .pc file, so `cmake --install --prefix ...` works anywhere.
file(RELATIVE_PATH TUNEDHTTP_PC_RELATIVE_PREFIX /${CMAKE_INSTALL_LIBDIR}/pkgconfig /)
string(REGEX REPLACE "/$" "" TUNEDHTTP_PC_RELATIVE_PREFIX "${TUNEDHTTP_PC_RELATIVE_PREFIX}")
configure_file(${PROJECT_SOURCE_DIR}/cmake/tunedhttp.pc.in ${PROJECT_BINARY_DIR}/tunedhttp.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/tunedhttp.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig
        COMPONENT development)

# The Debian package: `cpack -G DEB` in the build folder. One package holding the program, the
# static libraries, headers and the CMake/pkg-config files; it depends on the development
# packages that the headers and the exported targets need (Debian 12 names).
set(CPACK_PACKAGE_NAME tunedhttp)
set(CPACK_PACKAGE_VENDOR "tunedhttp")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "HTTP/1.1 client tuned by the AWS SDK for Go V2 settings, with a fault-injecting mock server")
set(CPACK_PACKAGE_CONTACT "tunedhttp maintainers <tunedhttp@localhost>")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION devel)
set(CPACK_DEBIAN_PACKAGE_DEPENDS
    "libboost1.81-dev, libssl-dev (>= 3), libssl3 (>= 3), libyaml-cpp0.7, libc6, libstdc++6")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "libgtest-dev, cmake (>= 3.25), pkg-config")
set(CPACK_GENERATOR DEB)
include(CPack)
