# SPDX-License-Identifier: MIT
# The dashboard reads what the tools really write: a compare result from `pinsplit compare
# --json` and a storm summary from `stress --json`, fed to the generator with a bench fixture.
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK})
include(${SOURCE}/cmake/RunOrFail.cmake)
run_or_fail(${PINSPLIT} compare --json ${SOURCE}/scenarios/mm/vmsplice_leak.ops)
file(WRITE ${WORK}/compare.json "${last_out}")
run_or_fail(${STRESS} --storm=word --seconds=0.2 --progress=false --seed=1 --json=${WORK}/stress.json)
run_or_fail(node ${SOURCE}/dashboard/generate.mjs --out ${WORK}/dashboard.html ${WORK}/compare.json
    ${WORK}/stress.json)
message(STATUS "dashboard built from the tools' own output")
