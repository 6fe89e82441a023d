// SPDX-License-Identifier: MIT
// The byte formats of pinsplit's fuzz targets, and their translation to and from op scripts.
//
// Every byte string is a valid input of every target (bytes past the end read as 0, extra bytes
// are ignored), so libFuzzer's mutations never waste an execution on a parse error. Each format
// is invertible on its canonical bytes: EncodeFuzzInput(DecodeFuzzInput(b)) decodes to the same
// script as b, so seed corpora are written as op scripts (fuzz/corpus/<target>/*.ops) and
// encoded at build time, and any crash decodes to a script `pinsplit replay` reproduces.
//
// refcount_ops (runs on every counter, against RefcountModel)
//   input  := op*                      at most kMaxRefcountOps ops
//   op     := CODE                     CODE % 8: 0 get, 1 try_get, 2 put, 3 pin read,
//                                      4 pin write, 5 unpin read, 6 unpin write
//           | CODE REFS READ WRITE FLAGS   CODE % 8 == 7: set; FLAGS & 1: saturated=yes
//   value  := V                        V != 0xFF: kBoundaryValues[V % kBoundaryValues.size()]
//           | 0xFF b0 b1 b2 b3         any 32-bit value, little endian
//
// interleave (2..4 logical threads on one deterministic counter, checked for linearizability)
//   input  := COUNTER THREADS INIT thread{N} PREF*
//   COUNTER  InterleaveCounters()[COUNTER % size]     THREADS  N = 2 + THREADS % 3
//   INIT     INIT % 2 == 0: one reference; else followed by REFS READ WRITE FLAGS (as set)
//   thread := LEN OP{1 + LEN % 4}      OP % 7 as above (no set)
//   PREF     at most kMaxSchedule; PREF % N + 1 is the thread preferred at each decision
// Racing misuse (THREADS / 3 % 2 == 1): COUNTER picks among the split layouts only, and thread
// N is the misuser (testing/racing_misuse.h): each of its OPs is `misuse` of
// MisuseChoices(script)[OP % size], the misuses no correct thread could hide (get always; put,
// unpin read, unpin write when no other thread can hold that kind), so every such input runs.
//
// The decoded scripts carry what the checks expect: refcount_ops annotates every operation
// with the model's result (`=> R`) and state (`expect ...`) for one counter, so replaying it on
// that counter fails exactly where the fuzzer found a difference (a difference in misuse
// reports alone shows as a `# misuse:` comment the trace contradicts: the language cannot
// assert misuse; a `set` that counter cannot hold is kept as a `#skip set ...` line, a
// comment to replay that the encoder reads back as the op). interleave prints the schedule actually
// taken; replay re-runs it and checks linearizability itself.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "pinsplit/any_refcount.h"
#include "pinsplit/interleave_script.h"
#include "pinsplit/op_script.h"

namespace pinsplit {

inline constexpr std::size_t kMaxRefcountOps = 512;
inline constexpr std::size_t kMaxInterleaveOpsPerThread = 4;
inline constexpr std::size_t kMaxSchedule = 256;

// Values `set` jumps to: every compiled-in field's edges (0, 1, 2, max-1, max, max+1) for all
// layouts, bias and plain.
const std::vector<std::uint32_t>& BoundaryValues();

// The counters the interleave target picks from (every shipped counter, canonical names).
const std::vector<std::string>& InterleaveCounters();

struct DecodeOptions {
  // refcount_ops: the counter whose expectations annotate the script (default: the first that
  // disagrees with the model, else split). interleave: run on this counter instead of the one
  // the input chooses (as PINSPLIT_INTERLEAVE_COUNTER does for the fuzz target).
  std::string impl;
  // mm_ops: the policy the input runs under (default split).
  std::string policy;
};

// The fuzz targets with a codec: refcount_ops, interleave, mm_ops (mm_ops_input.h).
std::vector<std::string> FuzzTargetsWithCodec();

// Fuzz input bytes -> op-script text, annotated as described above. InvalidArgument for an
// unknown target or counter.
absl::StatusOr<std::string> DecodeFuzzInput(std::string_view target, std::string_view bytes,
                                            const DecodeOptions& options = {});

// Op-script text -> canonical fuzz input bytes. `=>` results and `expect` lines are dropped
// (the decoder regenerates them). For interleave, a `# impls: NAME` line picks the counter
// (options.impl wins; names the target does not pick from encode as counter 0).
absl::StatusOr<std::string> EncodeFuzzInput(std::string_view target, std::string_view script_text,
                                            const DecodeOptions& options = {});

// --- refcount_ops ---------------------------------------------------------------------------

std::vector<CounterOp> DecodeRefcountOps(std::string_view bytes);
std::string EncodeRefcountOps(const std::vector<CounterOp>& ops);

struct RefcountOpsOutcome {
  std::optional<std::string> difference;  // the first difference from the model, if any
  std::string annotated;                  // the annotated script (when asked for)
};
// Runs `ops` on a fresh std::atomic counter `impl` and on the model side by side.
RefcountOpsOutcome RunRefcountOps(const std::vector<CounterOp>& ops, std::string_view impl,
                                  bool annotate);
// The same on a counter the caller made (a broken variant, say), in the state it is in.
RefcountOpsOutcome RunRefcountOps(const std::vector<CounterOp>& ops, AnyRefcount& counter,
                                  bool annotate);

// --- interleave -----------------------------------------------------------------------------

struct InterleaveInput {
  std::size_t counter_index = 0;  // into InterleaveCounters(), or the split ones with misuse
  bool misuse = false;            // racing misuse: the last thread is the misuser
  InterleaveScript script;
};
// The counters a racing-misuse input picks from: the split layouts, in the same order (so an
// index means the same counter in both lists).
const std::vector<std::string>& MisuseCounters();
// The counter an input picks.
const std::string& InterleaveCounterOf(const InterleaveInput& input);
// The misuse operations the last thread may run in `script` (threads before it decoded).
std::vector<CounterOp> MisuseChoices(const InterleaveScript& script);
InterleaveInput DecodeInterleave(std::string_view bytes);
std::string EncodeInterleave(const InterleaveInput& input);

}  // namespace pinsplit
