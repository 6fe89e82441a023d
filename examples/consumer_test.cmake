# SPDX-License-Identifier: MIT
# Installs pinsplit's headers into a scratch prefix and builds examples/consumer against them
# with find_package(pinsplit 0.1), then runs it; asks for
# other versions to check the version file.
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

# The package's version file (same minor: a 0.x minor release may break the API): the exact
# version is found; an older minor (0.0), a later minor (0.99) and a later major (99.0) are not.
foreach(wanted ${VERSION} 0.0 0.99 99.0)
  set(exact "")
  if(wanted STREQUAL VERSION)
    set(exact EXACT)
  endif()
  file(WRITE ${work}/want-${wanted}/CMakeLists.txt
    "cmake_minimum_required(VERSION 3.25)\nproject(want LANGUAGES NONE)\n"
    "find_package(pinsplit ${wanted} ${exact} REQUIRED)\n")
  execute_process(COMMAND ${CMAKE_COMMAND} -S ${work}/want-${wanted} -B ${work}/want-${wanted}/b
    -DCMAKE_PREFIX_PATH=${work}/prefix RESULT_VARIABLE status OUTPUT_QUIET ERROR_QUIET)
  if(wanted STREQUAL VERSION AND NOT status EQUAL 0)
    message(FATAL_ERROR "find_package(pinsplit ${VERSION} EXACT) failed on the installed package")
  elseif(NOT wanted STREQUAL VERSION AND status EQUAL 0)
    message(FATAL_ERROR "find_package(pinsplit ${wanted}) accepted version ${VERSION}")
  endif()
endforeach()
message(STATUS "consumer built against the installed package and ran")
