# SPDX-License-Identifier: MIT
# Proof of teeth with libFuzzer: runs FUZZER (target TARGET) with the environment variable
# ENV_NAME=ENV_VALUE, a fixed seed and at most RUNS executions from the seed corpus SEEDS. It must
# crash with output matching MATCH, and the crash, decoded with `pinsplit decode
# --target=TARGET DECODE_ARGS`, must replay with the command its `# replay:` line names to
# exit 1. Also used for mm_ops (ENV_NAME selects the policy).
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK}/corpus)
if(ENV_NAME)
  set(ENV{${ENV_NAME}} ${ENV_VALUE})
endif()
set(ENV{ASAN_OPTIONS} "detect_leaks=0")
execute_process(COMMAND ${FUZZER} -seed=1 -runs=${RUNS} -artifact_prefix=${WORK}/
                        -print_final_stats=1 ${WORK}/corpus ${SEEDS}
  RESULT_VARIABLE code OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(code EQUAL 0)
  message(FATAL_ERROR "${TARGET} did not find the bug (${ENV_NAME}=${ENV_VALUE}) in ${RUNS} runs "
                      "(exit ${code})\n${err}")
elseif(NOT err MATCHES "${MATCH}")
  message(FATAL_ERROR "${TARGET} stopped (exit ${code}, ${ENV_NAME}=${ENV_VALUE}), but not with "
                      "output matching '${MATCH}'\n${err}")
endif()
string(REGEX MATCH "stat::number_of_executed_units: *[0-9]+" execs "${err}")
file(GLOB crashes ${WORK}/crash-*)
list(GET crashes 0 crash)
separate_arguments(decode_args UNIX_COMMAND "${DECODE_ARGS}")
execute_process(COMMAND ${PINSPLIT} decode --target=${TARGET} ${decode_args}
                        --output=${WORK}/crash.ops ${crash} RESULT_VARIABLE code)
if(NOT code EQUAL 0)
  message(FATAL_ERROR "decode of ${crash} exited ${code}")
endif()
file(STRINGS ${WORK}/crash.ops replay_line REGEX "^# replay: pinsplit replay ")
string(REGEX REPLACE "^# replay: pinsplit replay (.*)FILE$" "\\1" replay_args "${replay_line}")
separate_arguments(replay_args UNIX_COMMAND "${replay_args}")
execute_process(COMMAND ${PINSPLIT} replay ${replay_args} ${WORK}/crash.ops
  RESULT_VARIABLE code OUTPUT_VARIABLE out ERROR_VARIABLE err2)
file(READ ${WORK}/crash.ops text)
if(NOT code EQUAL 1)
  message(FATAL_ERROR "the decoded crash replayed with exit ${code}, expected 1\n${text}\n${out}")
endif()
message(STATUS "${TARGET} found the bug (${execs}); the decoded crash replays to exit 1:\n${text}")
