// SPDX-License-Identifier: MIT
// Replays a counter op script against one counter, checking its `=>` and `expect` assertions.
//
// `expect` is checked through the scheme's own eyes (its Capabilities): a scheme that cannot
// tell two fields apart checks their sum instead. BiasRefcount checks read+write against its pin
// estimate (count / 1024) and refs against count % 1024; PlainRefcount checks refs+read+write
// against its count. A sum is checked only when every field in it is given; a field that cannot
// be checked is reported as unchecked in the trace, never silently passed.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "pinsplit/any_refcount.h"
#include "pinsplit/op_script.h"

namespace pinsplit {

struct ReplayResult {
  std::vector<std::string> failures;  // "line L: what differed", in script order
  int steps = 0;
};

// Runs every op of `script` on `counter`, writing one line per step (result and state after it)
// to `trace` when given. InvalidArgument when a `set` asks for a state the scheme cannot hold.
absl::StatusOr<ReplayResult> ReplayCounterScript(const CounterScript& script, AnyRefcount& counter,
                                                 std::ostream* trace = nullptr);

// Compares `spec` with `state` through the scheme's eyes (the rules above). Appends one message
// per difference to `diffs` and one per field the scheme cannot check to `unchecked`.
void CheckStateSpec(const StateSpec& spec, const RefcountState& state, const Capabilities& caps,
                    std::vector<std::string>& diffs, std::vector<std::string>& unchecked);

// "refs=1 read=0 write=2 saturated=no dead=no raw=0x02800001", with the scheme's own fields.
std::string FormatState(const RefcountState& state, const Capabilities& caps);

}  // namespace pinsplit
