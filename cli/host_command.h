// SPDX-License-Identifier: MIT
// The host backend's commands (host/, docs/host.md):
//
//   pinsplit replay --policy=host FILE     a process-level script on the running kernel
//   pinsplit compare FILE                  gains a `host` row where the backend can run
//   pinsplit fidelity [--json] [--output=F] [--false_pin] [--random=N [--seed=S]]
//                     [--model=POLICY] [FILES...]
//                                          the kernel against the model under POLICY
//                                          (default anon-exclusive); also `pinsplit host fidelity`
//   pinsplit host false-pin [--json] [--output=F] [--max_refs=N]
//   --gup_test=false                       (replay, compare, fidelity) no gup_test pins
//   pinsplit host-check                    what the kernel offers; 0 when the backend can run
//
// Exit status as everywhere: 0 success, 1 a check found a difference (a failed assertion, a
// disagreement, a backend that cannot run for host-check), 2 bad input, an operation with no
// mechanism (stand-ins off), or a backend that cannot run for replay. fidelity on a machine
// where the backend cannot run prints "skipped: <reason>", records it, and exits 0; stopped by
// SIGINT/SIGTERM, it writes what it has (`"interrupted": true`) and exits 130.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "pinsplit/mm/mm_replay.h"

namespace pinsplit {

int HostReplayCommand(const std::string& path, const std::string& text, bool quiet);

// The `host` row of `pinsplit compare`: nullopt where the backend cannot run (nothing shown).
struct HostCompareRow {
  std::string table_line;
  std::string json_item;
  std::vector<std::string> notes;  // stand-ins, a failed run
};
std::optional<HostCompareRow> HostCompareRowFor(const mm::MmScript& script);
// Adds the host row (when there is one) to compare's table or JSON output.
std::string WithHostRow(std::string compare_output, const std::optional<HostCompareRow>& row,
                        bool json);

int FidelityCommand(const std::vector<std::string>& args);
int HostCommand(const std::vector<std::string>& args);
int HostCheckCommand(const std::vector<std::string>& args);

}  // namespace pinsplit
