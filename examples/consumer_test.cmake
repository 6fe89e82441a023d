# SPDX-License-Identifier: MIT
# Installs pinsplit's headers into a scratch prefix and builds examples/consumer against them
# with find_package(pinsplit), then runs it.
set(work ${BINARY_DIR}/consumer_test)
file(REMOVE_RECURSE ${work})
include(${SOURCE_DIR}/cmake/RunOrFail.cmake)
run_or_fail(${CMAKE_COMMAND} -S ${SOURCE_DIR} -B ${work}/pinsplit -G Ninja -DPINSPLIT_BUILD_TESTS=OFF
    -DCMAKE_CXX_COMPILER=${CXX} -DCMAKE_INSTALL_PREFIX=${work}/prefix)
run_or_fail(${CMAKE_COMMAND} --install ${work}/pinsplit)
run_or_fail(${CMAKE_COMMAND} -S ${SOURCE_DIR}/examples/consumer -B ${work}/consumer -G Ninja
    -DCMAKE_CXX_COMPILER=${CXX} -DCMAKE_PREFIX_PATH=${work}/prefix)
run_or_fail(${CMAKE_COMMAND} --build ${work}/consumer)
run_or_fail(${work}/consumer/consumer)
message(STATUS "consumer built against the installed package and ran")
