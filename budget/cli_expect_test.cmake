# SPDX-License-Identifier: MIT
# Runs EXE with ARGS (a ;-list), then checks: the exit status is EXPECT_EXIT, stderr contains
# EXPECT_STDERR, and OUTPUT (the --output path) does not exist, so nothing was written half.
# With FILE set, EXPECT_STDERR comes from the file's first line: "# expect: TEXT".
if(DEFINED FILE)
  file(STRINGS ${FILE} header LIMIT_COUNT 1)
  string(REGEX REPLACE "^# expect: " "" EXPECT_STDERR "${header}")
  list(APPEND ARGS --workload=${FILE})
  set(EXPECT_STDERR "${FILE}: ${EXPECT_STDERR}")
endif()
file(REMOVE ${OUTPUT})
execute_process(COMMAND ${EXE} budget ${ARGS} --json --output=${OUTPUT} --sim_arrivals=0
  RESULT_VARIABLE code OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT code EQUAL EXPECT_EXIT)
  message(FATAL_ERROR "exit ${code}, expected ${EXPECT_EXIT}\nstdout: ${out}\nstderr: ${err}")
endif()
string(FIND "${err}" "${EXPECT_STDERR}" at)
if(at EQUAL -1)
  message(FATAL_ERROR "stderr lacks '${EXPECT_STDERR}':\n${err}")
endif()
if(EXISTS ${OUTPUT})
  message(FATAL_ERROR "${OUTPUT} was written although the run failed")
endif()
message(STATUS "ok: exit ${code}, '${EXPECT_STDERR}'")
