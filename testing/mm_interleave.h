// SPDX-License-Identifier: MIT
// MmInterleaveRunner: runs a small concurrent program of process-level operations (GUP-fast
// pins, fork, unmap, writes that fault, exit) on the mm model under the deterministic
// scheduler, and judges each run with the truth oracle.
//
// The operations cover every process-level call of the model: pins (long- and short-term,
// GUP-fast first or slow path only, read and write; a slow read pin on a shared page is the
// unshare path), fork, unmap, mprotect both ways, extra references, loads, stores, loads
// through pins, unpin and exit, each in any thread on any process.
// A run: (1) sequential set-up: process P maps addresses 0 and 1 and writes them; with
// `prefork`, P forks C (so P's pages are shared and write-protected); (2) the logical threads
// run their operations concurrently, one scheduling point per atomic access of the model;
// after each operation its thread tells the oracle what succeeded (unscheduled: no scheduling
// point, so schedules are those of the model alone; a pin is placed at its call's start, every
// other operation at its return) and, when no other thread is inside an operation, runs the
// oracle's whole-state check; (3) sequential epilogue that makes a slipped
// pin visible: every live process writes and reads back each address it maps, every pin is read
// and (write pins) written through, the state is checked after each step; then every pin is
// released, every process exits and the model must be empty (check_quiescent).
// A verdict lists the violations (empty: the run is correct) and the recorded choices, which
// replay the run through a PreferenceChooser.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "broken_mm_models.h"
#include "deterministic_mm_model.h"
#include "deterministic_scheduler.h"

namespace pinsplit {

enum class MmThreadOpKind : std::uint8_t {
  kPinRead,   // long-term FOLL_PIN read pin, GUP-fast first
  kPinWrite,  // long-term FOLL_PIN write pin, GUP-fast first
  kFork,
  kUnmap,
  kWrite,  // a store; a write fault when the entry is write-protected (COW)
  kUnpin,  // releases this thread's most recent live pin (nothing if none)
  kExit,
  kProtectRo,      // mprotect the page read-only
  kProtectRw,      // mprotect it read-write again
  kRef,            // an extra ordinary reference (LRU, swap cache) on the page, this thread's
  kDrop,           // releases this thread's most recent extra reference (nothing if none)
  kPinSlowRead,    // long-term read pin through the slow path only (may unshare a shared page)
  kPinSlowWrite,   // long-term write pin through the slow path only (breaks COW first)
  kPinShortRead,   // short-term read pin, GUP-fast first
  kPinShortWrite,  // short-term write pin, GUP-fast first
  kRead,           // a load, checked against the truth when no other operation overlapped it
  kReadPin,        // a load through this thread's most recent live pin, checked the same way
};
inline constexpr int kMmThreadOpKinds = 17;

// process: 0 is P, 1 is C (with prefork), 2.. children forked in this run, in fork order;
// an operation on a process that does not exist (yet) does nothing.
struct MmThreadOp {
  MmThreadOpKind kind;
  int process = 0;
  mm::Addr addr = 0;
};

struct MmInterleaveProgram {
  std::string policy = "split";
  bool prefork = false;
  std::vector<std::vector<MmThreadOp>> threads;  // 1..4 logical threads
};

struct MmRunVerdict {
  std::vector<std::string> violations;  // "invariant: detail"
  std::vector<int> choices;             // replays the run
  int fast_pins = 0;                    // pins GUP-fast took in this run
  int steps = 0;                        // scheduling points (accesses) in the run
};

std::string DescribeOp(const MmThreadOp& op);

class MmInterleaveRunner {
 public:
  virtual ~MmInterleaveRunner() = default;
  // A runner for one policy and variant; InvalidArgument for an unknown policy.
  static absl::StatusOr<std::unique_ptr<MmInterleaveRunner>> Create(const std::string& policy,
                                                                    MmModelVariant variant);
  virtual MmRunVerdict Run(const MmInterleaveProgram& program, Chooser& chooser) = 0;
  // Narrates the last run's model events (copies, frees) when on; for replays.
  virtual void set_event_log(std::vector<std::string>* log) = 0;
};

}  // namespace pinsplit
