# SPDX-License-Identifier: MIT
# cmake -DVERSION=... -DPROGRAMS="name=exe;..." -DPINSPLIT=exe -DSCENARIO=file -P VersionTest.cmake
# Every program's --version prints "NAME VERSION (git REV)" and exits 0, all with the same REV;
# a result file (pinsplit compare --json) carries the same version and, without
# $PINSPLIT_GIT_REVISION, the same revision.
set(revision "")
foreach(entry IN LISTS PROGRAMS)
  string(REPLACE "=" ";" pair "${entry}")
  list(GET pair 0 name)
  list(GET pair 1 exe)
  execute_process(COMMAND ${exe} --version OUTPUT_VARIABLE out ERROR_VARIABLE err
    RESULT_VARIABLE status)
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "${name} --version exited ${status}: ${err}")
  endif()
  string(REGEX MATCH "^${name} ([^ ]+) \\(git ([0-9a-f]+|unknown)\\)\n$" line "${out}")
  if(NOT line)
    message(FATAL_ERROR "${name} --version printed '${out}', not '${name} ${VERSION} (git REV)'")
  endif()
  if(NOT CMAKE_MATCH_1 STREQUAL VERSION)
    message(FATAL_ERROR "${name} --version says ${CMAKE_MATCH_1}, the project is ${VERSION}")
  endif()
  if(revision STREQUAL "")
    set(revision ${CMAKE_MATCH_2})
  elseif(NOT revision STREQUAL CMAKE_MATCH_2)
    message(FATAL_ERROR "${name} was built from ${CMAKE_MATCH_2}, another program from ${revision}")
  endif()
endforeach()

set(ENV{PINSPLIT_GIT_REVISION} "")
execute_process(COMMAND ${PINSPLIT} compare --json ${SCENARIO} OUTPUT_VARIABLE json
  RESULT_VARIABLE status)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "pinsplit compare --json exited ${status}")
endif()
string(JSON json_version ERROR_VARIABLE error GET "${json}" run version)
if(error OR NOT json_version STREQUAL VERSION)
  message(FATAL_ERROR
    "the result file's run.version is '${json_version}' (${error}), not ${VERSION}")
endif()
string(JSON json_revision GET "${json}" run git_revision)
if(NOT json_revision STREQUAL revision)
  message(FATAL_ERROR
    "the result file's run.git_revision is '${json_revision}', the build's ${revision}")
endif()
set(ENV{PINSPLIT_GIT_REVISION} "feed123")
execute_process(COMMAND ${PINSPLIT} compare --json ${SCENARIO} OUTPUT_VARIABLE json)
string(JSON json_revision GET "${json}" run git_revision)
if(NOT json_revision STREQUAL "feed123")
  message(FATAL_ERROR "with PINSPLIT_GIT_REVISION=feed123, run.git_revision is '${json_revision}'")
endif()
message(STATUS "every program reports ${VERSION} (git ${revision}); so does the result file")
