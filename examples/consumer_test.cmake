# Installs pinsplit's headers into a scratch prefix and builds examples/consumer against them
# with find_package(pinsplit), then runs it.
set(work ${BINARY_DIR}/consumer_test)
file(REMOVE_RECURSE ${work})
function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE code OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT code EQUAL 0)
    message(FATAL_ERROR "`${ARGN}` failed (${code}):\n${out}\n${err}")
  endif()
endfunction()
run(${CMAKE_COMMAND} -S ${SOURCE_DIR} -B ${work}/pinsplit -G Ninja -DPINSPLIT_BUILD_TESTS=OFF
    -DCMAKE_CXX_COMPILER=${CXX} -DCMAKE_INSTALL_PREFIX=${work}/prefix)
run(${CMAKE_COMMAND} --install ${work}/pinsplit)
run(${CMAKE_COMMAND} -S ${SOURCE_DIR}/examples/consumer -B ${work}/consumer -G Ninja
    -DCMAKE_CXX_COMPILER=${CXX} -DCMAKE_PREFIX_PATH=${work}/prefix)
run(${CMAKE_COMMAND} --build ${work}/consumer)
run(${work}/consumer/consumer)
message(STATUS "consumer built against the installed package and ran")
