# SPDX-License-Identifier: MIT
# run_or_fail(COMMAND...): runs a command in a CTest script and fails the test, showing its
# output, when it exits non-zero; its standard output is left in `last_out`.
function(run_or_fail)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE code OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT code EQUAL 0)
    message(FATAL_ERROR "`${ARGN}` exited ${code}:\n${out}\n${err}")
  endif()
  set(last_out "${out}" PARENT_SCOPE)
endfunction()
