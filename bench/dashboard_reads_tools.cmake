# The dashboard reads what the tools really write: a compare result from `pinsplit compare
# --json` and a storm summary from `stress --json`, fed to the generator with a bench fixture.
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK})
function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE code OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT code EQUAL 0)
    message(FATAL_ERROR "`${ARGN}` exited ${code}\n${out}\n${err}")
  endif()
  set(last_out "${out}" PARENT_SCOPE)
endfunction()
run(${PINSPLIT} compare --json ${SOURCE}/scenarios/mm/vmsplice_leak.ops)
file(WRITE ${WORK}/compare.json "${last_out}")
run(${STRESS} --storm=word --seconds=0.2 --progress=false --seed=1 --json=${WORK}/stress.json)
run(node ${SOURCE}/dashboard/generate.mjs --out ${WORK}/dashboard.html ${WORK}/compare.json
    ${WORK}/stress.json)
message(STATUS "dashboard built from the tools' own output")
