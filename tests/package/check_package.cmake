# Installs the build into a scratch prefix, then configures, builds and runs the
# consumer project against it with the library's compile flags (CXX_FLAGS, may be
# empty). Run by CTest as `find_package_consumer`.
foreach(var BUILD_DIR CONSUMER_DIR WORK_DIR GENERATOR)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "check_package.cmake needs -D${var}=...")
  endif()
endforeach()

function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGN}\n${out}")
  endif()
endfunction()

file(REMOVE_RECURSE ${WORK_DIR})
run(${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${WORK_DIR}/prefix)
# Of runtime/, only the embedding facade is API: the node, the admin server, the
# CLI and the config parser are custodiand's own.
set(runtime_dir ${WORK_DIR}/prefix/include/custodian/runtime)
file(GLOB_RECURSE runtime_headers RELATIVE ${runtime_dir} ${runtime_dir}/*)
if(NOT runtime_headers STREQUAL "runtime.hpp;scoped_lease.hpp")
  message(FATAL_ERROR "installed runtime/ headers: ${runtime_headers}; "
    "expected runtime.hpp;scoped_lease.hpp")
endif()
run(${CMAKE_COMMAND} -S ${CONSUMER_DIR} -B ${WORK_DIR}/build -G ${GENERATOR}
    -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix -DCMAKE_BUILD_TYPE=Release
    # The consumer is built like the library (a sanitized library needs a
    # sanitized application).
    "-DCMAKE_CXX_FLAGS=${CXX_FLAGS}")
run(${CMAKE_COMMAND} --build ${WORK_DIR}/build)
run(${WORK_DIR}/build/consumer)
message(STATUS "find_package(custodian) consumer built and ran")
