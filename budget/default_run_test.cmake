# SPDX-License-Identifier: MIT
# `pinsplit budget --json --output=OUTPUT` with every default: exit 0, and the file is a "budget"
# result naming every preset, 326 layouts and the seed's verdict.
file(REMOVE ${OUTPUT})
execute_process(COMMAND ${EXE} budget --json --output=${OUTPUT}
  RESULT_VARIABLE code OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT code EQUAL 0)
  message(FATAL_ERROR "exit ${code}\n${err}")
endif()
file(READ ${OUTPUT} json)
string(JSON kind GET "${json}" kind)
string(JSON layouts LENGTH "${json}" layouts)
string(JSON workloads LENGTH "${json}" workloads)
string(JSON seed_meets GET "${json}" verdict seed meets)
if(NOT kind STREQUAL "budget" OR NOT layouts EQUAL 326 OR workloads LESS 10)
  message(FATAL_ERROR "kind ${kind}, ${layouts} layouts, ${workloads} workloads")
endif()
string(FIND "${out}" "timing:" at)
if(at EQUAL -1)
  message(FATAL_ERROR "no timing line on stdout:\n${out}")
endif()
message(STATUS "ok: ${workloads} workloads, ${layouts} layouts, seed meets: ${seed_meets}")
