# A consumer project that adds the tunedhttp source tree with add_subdirectory.
include(${CMAKE_CURRENT_LIST_DIR}/run_step.cmake)
foreach(required IN ITEMS TUNEDHTTP_SOURCE CONSUMER_SOURCE WORK_DIR CMAKE_GENERATOR)
  if(NOT DEFINED ${required})
    message(FATAL_ERROR "-D${required}=... is required")
  endif()
endforeach()

file(REMOVE_RECURSE ${WORK_DIR})
set(configure_args -S ${CONSUMER_SOURCE} -B ${WORK_DIR} -G ${CMAKE_GENERATOR}
    -DTUNEDHTTP_SOURCE=${TUNEDHTTP_SOURCE})
if(CMAKE_CXX_COMPILER)
  list(APPEND configure_args -DCMAKE_CXX_COMPILER=${CMAKE_CXX_COMPILER})
endif()
run_step("configure" COMMAND ${CMAKE_COMMAND} ${configure_args})
run_step("build" COMMAND ${CMAKE_COMMAND} --build ${WORK_DIR} --target consumer -j2)
run_step("run" COMMAND ${WORK_DIR}/consumer)
