# SPDX-License-Identifier: MIT
# For every fuzz input in INPUTS: `pinsplit decode --target=TARGET` it into WORK/, then run the
# replay command its `# replay: pinsplit replay ARGS FILE` line names, and require exit EXPECT.
# Shows that a decoded input reproduces the target's verdict (seeds: clean, exit 0).
file(MAKE_DIRECTORY ${WORK})
set(count 0)
foreach(input IN LISTS INPUTS)
  get_filename_component(stem ${input} NAME)
  set(decoded ${WORK}/${stem}.ops)
  execute_process(COMMAND ${PINSPLIT} decode --target=${TARGET} --output=${decoded} ${input}
    RESULT_VARIABLE code ERROR_VARIABLE err)
  if(NOT code EQUAL 0)
    message(FATAL_ERROR "decode of ${input} exited ${code}\n${err}")
  endif()
  file(STRINGS ${decoded} replay_line REGEX "^# replay: pinsplit replay ")
  if(NOT replay_line)
    message(FATAL_ERROR "${decoded} has no '# replay:' line")
  endif()
  string(REGEX REPLACE "^# replay: pinsplit replay (.*)FILE$" "\\1" args "${replay_line}")
  separate_arguments(args UNIX_COMMAND "${args}")
  execute_process(COMMAND ${PINSPLIT} replay --quiet ${args} ${decoded}
    RESULT_VARIABLE code OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT code EQUAL EXPECT)
    file(READ ${decoded} text)
    message(FATAL_ERROR "replay of decoded ${stem} exited ${code}, expected ${EXPECT}\n"
                        "${text}\n${out}\n${err}")
  endif()
  math(EXPR count "${count} + 1")
endforeach()
message(STATUS "${count} decoded inputs replayed with exit ${EXPECT}")
