// SPDX-License-Identifier: MIT
// `pinsplit budget`: how many bits a split of the page refcount needs, per workload, and what an
// attacker pays to fill each field (docs/budget.md). Kept apart from pinsplit_main.cc so that
// file stays a dispatcher.
#pragma once

#include <string>
#include <vector>

namespace pinsplit {

// pinsplit budget [--workload=FILE|PRESET,...] [--layout=R/W/O,...|all] [--target=P] [--retry]
//                 [--seed=N] [--sim_arrivals=N] [--json] [--output=FILE] [FILE|PRESET...]
// Returns the exit status: 0 done, 1 a simulation found its counter word disagreeing with its
// own tally, 2 bad input (a workload file's error carries line:column; nothing is written),
// 130 interrupted by Ctrl-C or SIGTERM (the finished workloads are written, marked interrupted).
int BudgetCommand(const std::vector<std::string>& args);

}  // namespace pinsplit
