// SPDX-License-Identifier: MIT
// The op-script language: pinsplit's readable form for operation sequences.
//
// Scenarios, seed corpora, decoded fuzz crashes and replays all speak it; docs/op-script.md is
// its reference. One operation per line, `#` starts a comment, blank lines are ignored:
//
//   get | try_get | put                     ordinary references
//   pin read|write | unpin read|write       pins
//   OP => RESULT                            asserts the result: ok/dead/full (get, try_get),
//                                           live/last (put, unpin), pinned/full/dead (pin)
//   set refs=N read=N write=N saturated=yes|no      jumps to a state (any subset; the rest 0/no)
//   expect refs=N read=N write=N saturated=yes|no dead=yes|no   asserts the decoded state
//
// Parsing is separate from running so that a script is checked whole before anything runs, and
// so that ops can be printed back (Format) in the canonical form the parser reads.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "pinsplit/refcount.h"

namespace pinsplit {

// A subset of a counter's decoded state, for `set` and `expect`.
struct StateSpec {
  std::optional<std::uint32_t> refs;
  std::optional<std::uint32_t> read;
  std::optional<std::uint32_t> write;
  std::optional<bool> saturated;
  std::optional<bool> dead;

  friend bool operator==(const StateSpec&, const StateSpec&) = default;
};

enum class CounterOpKind : std::uint8_t { kGet, kTryGet, kPut, kPin, kUnpin, kSet, kExpect };

struct CounterOp {
  CounterOpKind kind = CounterOpKind::kGet;
  PinKind pin = PinKind::kRead;       // kPin, kUnpin
  StateSpec spec;                     // kSet, kExpect
  std::optional<std::string> result;  // the token after "=>", checked against the op's results
  int line = 0;                       // 1-based source line; 0 for ops built in code

  friend bool operator==(const CounterOp& a, const CounterOp& b) {
    return a.kind == b.kind && a.pin == b.pin && a.spec == b.spec && a.result == b.result;
  }
};

struct CounterScript {
  std::vector<CounterOp> ops;
};

// Runs one operation (get, try_get, put, pin, unpin) on anything with the counter interface —
// a counter, an AnyRefcount, the sequential model — and returns its result as the script writes
// it ("ok", "last", "pinned", ...); nullopt for `set` and `expect`, which are not operations.
template <class Counter>
std::optional<std::string> ApplyCounterOp(Counter& counter, const CounterOp& op) {
  switch (op.kind) {
    case CounterOpKind::kGet:
      return std::string(to_string(counter.get()));
    case CounterOpKind::kTryGet:
      return std::string(to_string(counter.try_get()));
    case CounterOpKind::kPut:
      return std::string(to_string(counter.put()));
    case CounterOpKind::kPin:
      return std::string(to_string(counter.try_pin(op.pin)));
    case CounterOpKind::kUnpin:
      return std::string(to_string(counter.unpin(op.pin)));
    case CounterOpKind::kSet:
    case CounterOpKind::kExpect:
      break;
  }
  return std::nullopt;
}

// Parses a whole script. Errors are InvalidArgument and read "line L, column C: what".
absl::StatusOr<CounterScript> ParseCounterScript(std::string_view text);

// The canonical text of one op (no comment, no newline); ParseCounterScript reads it back.
std::string Format(const CounterOp& op);
std::string Format(const StateSpec& spec);

}  // namespace pinsplit
