// SPDX-License-Identifier: MIT
// The promises split_refcount.h makes when misuse races with correct operations, as a check of
// one finished interleave run (interleave_replay.h runs scripts with `thread N misuse OP`).
//
// Linearizability cannot be the judge there: a misuse is detected on the value its own RMW
// returned and repaired by a second RMW, and between the two the word is visibly wrong (the
// header's windows). What the header promises instead, and this check holds it to:
//   1. The misuse is reported. A misused put or unpin of a kind its thread does not hold, in a
//      script where no correct thread can hold that kind either (the runner refuses any other:
//      a put that takes another holder's reference is invisible to every counter), reports
//      one of its kinds (put: put-underflow, put-on-dead, saturated; unpin: unpin-underflow,
//      unpin-on-dead); a misused get that answers "dead" reports get-on-dead.
//   2. The word's fields stay exact for the holders. Holdings follow what each operation
//      answered: a misused drop the counter undid changes nothing, and a misused get it could
//      not see is its thread's reference; a correct drop is gone from its caller, and when the
//      counter undid it (case 4) the unit the word keeps is leaked. At the end each pin field
//      equals the pins held plus those leaked; unless the word is saturated (which needs an
//      overflow, saturated or put-underflow report, or a saturated start) or dead, so does the
//      reference count.
//   3. No correct operation is lost, and nothing is freed early: at most one operation answers
//      "last"; a word that ended alive had no "last"; a dead word leaves no holder, except one
//      that came from a try_get or try_pin which succeeded in the header's resurrection window,
//      or from a misused get (which promises its caller nothing); only when the script has a
//      misused get (a misused unpin writes nothing, so it opens no window).
//   4. Damage reaches a correct operation only where the header says it can: a correct
//      operation reports misuse only at the saturation edge (overflow, saturated) or as a
//      holder from a misused get's resurrection window dropping on the dead word (*-on-dead).
//      (Before issue 20 an unpin read could find the read field borrowed by a misused unpin
//      write and report unpin-underflow; unpin now never borrows, so that is a broken promise.)
// Missed last drops (a leak) are allowed: the header names them. The counter's interleavings are
// those of the deterministic scheduler (sequentially consistent), as everywhere in the explorer.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "pinsplit/interleave_script.h"
#include "pinsplit/misuse.h"
#include "pinsplit/refcount.h"

namespace pinsplit {

// What a logical thread holds, by what its operations answered.
struct MisuseHoldings {
  std::uint32_t refs = 0, read = 0, write = 0;
  std::uint32_t& pins(PinKind k) { return k == PinKind::kRead ? read : write; }
};

// One operation that ran, as the check sees it.
struct MisuseOpOutcome {
  int thread = 0;  // 1-based
  int index = 0;   // 0-based, in its thread
  CounterOp op;
  bool misuse = false;      // written `misuse OP`
  bool detectable = false;  // misuse of a kind its thread held none of when it ran
  std::string result;
  std::vector<Misuse> reports;
};

struct MisuseRunFacts {
  bool start_saturated = false;
  std::vector<MisuseOpOutcome> ops;      // every operation that ran
  std::vector<MisuseHoldings> holdings;  // per thread, at the end
  std::vector<MisuseHoldings> windowed;  // per thread: taken by try_get, pin or a misused get
  MisuseHoldings leaked;                 // kept by the word from correct drops it undid
  MisuseHoldings undealt;  // start holders dealt to no thread (4 of a kind each at most)
  RefcountState final_state;
};

// Why `script` cannot be run with racing misuse on a counter with `caps` (empty: it can): the
// counter must be a split word (the promises are its), and each misused put or unpin must
// target a kind no correct thread can hold (dealt at the start or taken by an operation).
// `dealt` is what each thread holds at the start.
std::string RacingMisuseRefusal(const InterleaveScript& script, const Capabilities& caps,
                                const std::vector<MisuseHoldings>& dealt);

// The broken promises of one run (empty: every promise held).
std::vector<std::string> CheckRacingMisuse(const InterleaveScript& script,
                                           const MisuseRunFacts& facts);

}  // namespace pinsplit
