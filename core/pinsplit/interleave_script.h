// SPDX-License-Identifier: MIT
// The interleave dialect of the op-script language: a few logical threads, each with its own
// operations, run concurrently on one counter, and the schedule that interleaves them.
//
//   set refs=1 write=1          optional, before any thread line: the state the threads start in
//   thread 1 put                thread N OP [=> RESULT]: OP of the counter language (get,
//   thread 2 unpin write        try_get, put, pin K, unpin K), run by logical thread N (1..4)
//   thread 3 misuse put         a deliberate contract breach (get, put or unpin K) that races
//                               with the others; misuse ops all run in one thread
//   schedule 1 2 1 1            the thread preferred at each scheduling decision (may span
//                               several lines; optional)
//   expect dead=yes             checked once every thread has finished (any number, anywhere)
//
// Threads are numbered 1..N without gaps. A script is in this dialect when one of its lines
// starts with `thread` or `schedule` (LooksLikeInterleaveScript); counter scripts never do.
// Running a script (deterministic scheduler, ownership rules, linearizability) is not part of
// the language: see testing/interleave_replay.h and docs/op-script.md. This file only reads
// and prints it, and depends on nothing outside core.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "pinsplit/op_script.h"

namespace pinsplit {

inline constexpr int kMaxInterleaveThreads = 4;

struct InterleaveScript {
  std::optional<CounterOp> initial;             // the `set`, if any
  std::vector<std::vector<CounterOp>> threads;  // threads[i]: the operations of thread i+1
  std::vector<int> schedule;                    // preferred thread ids, one per decision
  std::vector<CounterOp> expects;               // checked after every thread has finished
  // misuse[t][i]: operation i of thread t+1 is written `misuse OP` (may be shorter than
  // threads, or empty: no misuse). Only get, put and unpin, and all in one thread.
  std::vector<std::vector<bool>> misuse;

  bool is_misuse(std::size_t thread, std::size_t op) const {
    return thread < misuse.size() && op < misuse[thread].size() && misuse[thread][op];
  }
  // The 0-based thread that runs the misuse operations, or -1.
  int misuse_thread() const;

  friend bool operator==(const InterleaveScript&, const InterleaveScript&) = default;
};

// True when some line (comments aside) starts with `thread` or `schedule`.
bool LooksLikeInterleaveScript(std::string_view text);

// Parses a whole interleave script. Errors are InvalidArgument: "line L, column C: what".
absl::StatusOr<InterleaveScript> ParseInterleaveScript(std::string_view text);

// The canonical text: the set, every thread's lines in thread order, the schedule (32 ids a
// line), then the expects. ParseInterleaveScript reads it back to an equal script.
std::string FormatInterleaveScript(const InterleaveScript& script);

}  // namespace pinsplit
