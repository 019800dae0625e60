# cpack -G DEB from the build tree, then the package checked with dpkg-deb --info and --contents.
include(${CMAKE_CURRENT_LIST_DIR}/run_step.cmake)
foreach(required IN ITEMS CPACK_COMMAND DPKG_DEB BUILD_DIR WORK_DIR VERSION)
  if(NOT DEFINED ${required})
    message(FATAL_ERROR "-D${required}=... is required")
  endif()
endforeach()

file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR})
run_step("cpack" COMMAND ${CPACK_COMMAND} -G DEB --config ${BUILD_DIR}/CPackConfig.cmake
                         -B ${WORK_DIR} WORKING_DIRECTORY ${WORK_DIR})
file(GLOB debs ${WORK_DIR}/tunedhttp_${VERSION}_*.deb)
list(LENGTH debs count)
if(NOT count EQUAL 1)
  message(FATAL_ERROR "got packages '${debs}'; want one tunedhttp_${VERSION}_<arch>.deb")
endif()

run_step("dpkg-deb --info" COMMAND ${DPKG_DEB} --info ${debs} OUTPUT_VARIABLE info)
foreach(field IN ITEMS "Package: tunedhttp" "Version: ${VERSION}" "Depends: .*libboost1.81-dev"
                       "Depends: .*libssl-dev" "Section: devel")
  if(NOT info MATCHES "${field}")
    message(FATAL_ERROR "got no '${field}' in dpkg-deb --info; want it")
  endif()
endforeach()

run_step("dpkg-deb --contents" COMMAND ${DPKG_DEB} --contents ${debs} OUTPUT_VARIABLE contents)
foreach(path IN ITEMS "\\./usr/bin/tunedhttp\n" "\\./usr/include/tunedhttp/client\\.hpp"
                      "\\./usr/include/tunedhttp/mockserver/server\\.hpp"
                      "\\./usr/include/tunedhttp/testing/fixture\\.hpp"
                      "\\./usr/lib/[^ ]*libtunedhttp_client\\.a"
                      "\\./usr/lib/[^ ]*cmake/tunedhttp/tunedhttpConfig\\.cmake"
                      "\\./usr/lib/[^ ]*cmake/tunedhttp/tunedhttpConfigVersion\\.cmake"
                      "\\./usr/lib/[^ ]*pkgconfig/tunedhttp\\.pc")
  if(NOT contents MATCHES "${path}")
    message(FATAL_ERROR "got no path matching '${path}' in dpkg-deb --contents; want it")
  endif()
endforeach()
# Nothing outside /usr, and no build-tree paths leaked into the package.
if(contents MATCHES "\\./(etc|opt|home|tmp|work)/")
  message(FATAL_ERROR "got files outside /usr in the package; want only /usr")
endif()
