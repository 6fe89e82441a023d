# SPDX-License-Identifier: MIT
# Runs `EXE replay ARGS FILE` and fails unless it exits with EXPECT.
execute_process(COMMAND ${EXE} replay ${ARGS} ${FILE}
  RESULT_VARIABLE code OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT code STREQUAL EXPECT)
  message(FATAL_ERROR "exit ${code}, expected ${EXPECT}\n${out}\n${err}")
endif()
message(STATUS "exit ${code} as expected\n${err}")
