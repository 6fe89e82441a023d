// SPDX-License-Identifier: MIT
// A brute-force linearizability checker for counter histories against RefcountModel.
//
// A history is what the logical threads of one deterministic run did: for every operation, its
// thread, its result, the misuse it reported, and the global steps (atomic accesses) of its
// first and last access. It is linearizable when some total order of the operations
//   - keeps every operation after those that finished before it started (real-time order:
//     a precedes b when a's last step comes before b's first step; this includes program order),
//   - gives, applied one by one to the model from the initial state, the same results (and,
//     when asked, the same misuse reports, saturation reports aside: overflow and saturated
//     are reported racily at the saturation edge, by design) as the run did,
//   - and leaves the model in the decoded state the counter ended in (raw word excluded).
// A history may also hold predicate readings (probes: what is_pinned(), is_pinned_writable()
// and state() said at one instant, refcount_predicates.h); a probe changes nothing and must
// read what the model's predicates say at its place in the order (one allowance, again at the
// saturation edge: a probe taken while an overflowing get is in flight may read "not saturated",
// the window split_refcount.h documents). Operations of one thread
// keep their program order (`sequence`) even when they share a step, as a probe does with the
// operation it follows.
// Histories are tiny (at most 4 threads x a few operations): a depth-first search over orders,
// with failed (placed set, model state) pairs memoised, decides them exactly.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "pinsplit/misuse.h"
#include "pinsplit/op_script.h"
#include "refcount_model.h"
#include "refcount_predicates.h"

namespace pinsplit {

struct HistoryOp {
  int thread = 0;              // 1-based logical thread
  int index = 0;               // position in that thread's program, 0-based
  CounterOp op;                // get, try_get, put, pin, unpin (result unset)
  std::string result;          // what it returned: "ok", "last", "pinned", ...
  std::vector<Misuse> misuse;  // what the counter reported while it ran
  std::size_t first_step = 0;  // global index of its first access
  std::size_t last_step = 0;   // global index of its last access
  int sequence = 0;            // position among the thread's history entries (program order)
  // Set for a predicate reading (then `reading` is what it read, `result` its text and `op`
  // the operation it followed). The model's own scheme says how its predicates read.
  bool probe = false;
  PredicateReading reading;
};

struct LinearizabilityVerdict {
  bool linearizable = false;
  std::vector<std::size_t> order;  // when linearizable: history indices in a valid order
  std::string why;                 // when not: what no order could match
};

// The checker's capacity: a history longer than this cannot be decided (placed sets are 128-bit
// masks). Callers refuse such input up front as bad input (InterleaveRunner::Create does);
// it is a limit of the checker, never a verdict on the counter.
inline constexpr std::size_t kMaxLinearizabilityOps = 128;

// What an interleave script may run: each operation enters the history twice when its
// predicate reading is checked (the operation and the reading after it), so a script keeps
// to half the checker's capacity whether or not readings are on, and one limit is documented.
inline constexpr std::size_t kMaxInterleaveScriptOps = kMaxLinearizabilityOps / 2;

// Decides whether `history` is linearizable against `initial` ending in `final_state`.
// At most kMaxLinearizabilityOps operations: a longer history is a caller's bug, reported as
// not linearizable with `why` naming the limit.
LinearizabilityVerdict CheckLinearizable(std::span<const HistoryOp> history,
                                         const RefcountModel& initial,
                                         const RefcountState& final_state, bool check_misuse);

// "T2#1 unpin write => last [steps 3..5] misuse: put-on-dead".
std::string FormatHistoryOp(const HistoryOp& op);

// Applies one counter operation to the model and returns its result token.
std::string ApplyToModel(RefcountModel& model, const CounterOp& op);

}  // namespace pinsplit
