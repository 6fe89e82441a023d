// SPDX-License-Identifier: MIT
// HostSession: replays a process-level op script (docs/op-script.md) on the running kernel, one
// agent process per script process (host_agent.h), and records what the kernel did.
//
// Mechanisms (../shared/research/host-kernel.md, "Driving the mm script operations"):
//   spawn / map / write / read / protect / unmap / exit   the agent does it to its own memory
//   fork A B                     clone(CLONE_PARENT) inside agent A: a real fork of A's mm
//   pin write longterm           IORING_REGISTER_BUFFERS in the agent (FOLL_WRITE | FOLL_PIN |
//                                FOLL_LONGTERM), one ring per handle, taken by the controller
//                                with pidfd_getfd so it outlives the agent (io_uring_ring.h)
//   h read / h write v           WRITE_FIXED / READ_FIXED between the buffer and a memfd
//   unpin h                      IORING_UNREGISTER_BUFFERS, then close
//   ref / drop                   vmsplice one byte into a pipe the controller holds / close it
//   pin read, short-term pin write
//                                a held FUSE direct-I/O call from a thread of the agent
//                                (fuse_pin_daemon.h): pwrite from the page = a R/O FOLL_PIN,
//                                pread into it = a R/W FOLL_PIN; h read = the daemon reads the
//                                WRITE request (once), h write = the daemon answers the READ
//                                (which ends the pin), unpin = the daemon's answer
//   pin read longterm            where the kernel has a usable /sys/kernel/debug/gup_test
//                                (gup_test_pin.h): PIN_LONGTERM_TEST_START by the agent on its
//                                page (FOLL_PIN | FOLL_LONGTERM, no FOLL_WRITE) with the file
//                                sent by the controller, which keeps the only copy; h read =
//                                PIN_LONGTERM_TEST_READ; unpin = PIN_LONGTERM_TEST_STOP, close.
//                                gup_test holds one set of pages per system, so one gup_test pin
//                                at a time: a pin taken while another holds it gets the stand-in
//                                below, saying so.
//                                Elsewhere: stand-in, the FUSE R/O pin above (the anon unshare
//                                rules are the same for any FOLL_PIN)
//   a read or short-term pin the FUSE pin cannot serve (a second `h read`, `h read` through a
//   write pin, the pinner exiting first, operations between `h write` and `unpin h`, FUSE not
//   available)               stand-in: for a read pin, the gup_test long-term R/O pin where it
//                            is free; else the io_uring long-term R/W pin.
// Which mechanism each pin gets is decided by Plan() from the whole script. Every stand-in is
// listed in HostStep::stand_in and stand_ins(); with HostOptions::stand_ins off a pin that needs
// one is refused (Unimplemented, naming the op). A kernel never refuses a pin for counting
// reasons, so `=> full` never holds.
//
// After every step every live agent reports, per mapped address, its PFN, mapcount and
// anon-exclusive flag; the acting agent also reports its minor faults. Counters are derived from
// PFN changes: a child PFN that differs from its parent's after fork is a copy at fork, a PFN
// change at a write (or at a `pin write`, which breaks COW through the write-fault path, as the
// model counts it) is a copy at fault, a PFN change at a `pin read` is an unshare. Any other PFN
// change is reported as unexplained.
//
// Hygiene: every agent is the controller's child (pidfd, PR_SET_PDEATHSIG, own process group);
// every reply is awaited with a watchdog (HostOptions::timeout_ms) and RequestHostStop() (what
// the CLI's SIGINT/SIGTERM handlers call); Shutdown() - also run by the destructor - kills every
// agent through its pidfd, reaps it, and releases every ring and pipe. A step that fails leaves
// the session unusable but still releasable. Create() ignores SIGPIPE for the whole process (a
// dead agent's socket must fail a send, not kill the controller). Not thread-safe.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gup_test_pin.h"
#include "host/fuse_pin_daemon.h"
#include "host_agent.h"
#include "io_uring_ring.h"
#include "pinsplit/mm/mm_script.h"

namespace pinsplit::host {

struct HostOptions {
  bool stand_ins = true;  // run pins without a faithful mechanism through the io_uring stand-in
  bool fuse = true;       // short-term and read pins through the FUSE daemon where they fit
  bool gup_test = true;   // long-term R/O pins through gup_test where the probe finds it usable
  std::string gup_test_path = kGupTestPath;
  int timeout_ms = 10000;                   // watchdog for each agent reply
  std::uintptr_t base = kDefaultAgentBase;  // Create() moves the default where it cannot be mapped
};

struct HostPageFact {
  std::uint64_t pfn = 0;
  int mapcount = 0;
  bool exclusive = false;
};

// Per live process, its mapped addresses; per held pin, the PFN it holds.
struct HostSnapshot {
  std::map<std::string, std::map<std::uint32_t, HostPageFact>> processes;
  std::map<std::string, std::uint64_t> pins;
};

struct HostStats {
  std::uint64_t copies_at_fork = 0;
  std::uint64_t copies_at_fault = 0;
  std::uint64_t unshares = 0;
  std::uint64_t unexplained_pfn_changes = 0;
  std::uint64_t faults = 0;  // minor faults of acting agents
};

struct HostStep {
  std::string got;                  // "ok", a value read, "pinned"
  std::vector<std::string> events;  // what the kernel did, in the model's words
  std::optional<std::string> stand_in;
  bool faulted = false;
};

// SIGINT/SIGTERM handlers that call RequestHostStop, so a run stops between replies, releases
// everything and keeps its partial results; Restore puts the previous handlers back.
void InstallHostStopHandlers();
void RestoreHostStopHandlers();
void RequestHostStop();
void ClearHostStop();  // before a new run
bool HostStopRequested();

// How the backend takes one pin.
enum class PinMechanism : std::uint8_t { kIoUring, kFuseRead, kFuseWrite, kGupTest };

struct PinPlan {
  PinMechanism mechanism = PinMechanism::kIoUring;
  std::optional<std::string> stand_in;  // what stands in for what, and why
};

// What PlanPins may use besides io_uring.
struct PinMechanisms {
  bool fuse = true;
  bool gup_test = false;
  std::string no_gup_test = "no gup_test";  // why not, for the stand-ins' notes
};

// The mechanism for each pin of `script` (by handle name), from how the script uses the handle
// afterwards: which pins FUSE can serve, and which pin holds gup_test's one set when.
std::map<std::string, PinPlan> PlanPins(const mm::MmScript& script,
                                        const PinMechanisms& mechanisms);
// The same without gup_test; `fuse` says whether the FUSE daemon may be used at all.
std::map<std::string, PinPlan> PlanPins(const mm::MmScript& script, bool fuse);

class HostSession {
 public:
  static absl::StatusOr<std::unique_ptr<HostSession>> Create(const HostOptions& options);
  ~HostSession();
  HostSession(const HostSession&) = delete;
  HostSession& operator=(const HostSession&) = delete;

  // Runs one operation. Errors: InvalidArgument/FailedPrecondition "OP: why" for what the script
  // asks that cannot be done (unknown name, unmapped address), Unimplemented for a pin with no
  // mechanism (stand-ins off), DeadlineExceeded for an agent past the watchdog, Cancelled after
  // RequestHostStop, Internal for a dead agent or a failed syscall.
  absl::Status Step(const mm::MmOp& op, HostStep* out = nullptr);
  // Decides each pin's mechanism from the whole script (PlanPins), probing gup_test (once per
  // session) when the script has a read pin, and mounts the FUSE daemon if a pin needs it.
  // Without a plan every read and short-term pin is an io_uring stand-in.
  absl::Status Plan(const mm::MmScript& script);
  // The gup_test probe's answer: nullopt before a plan needed it, OK when usable.
  const std::optional<absl::Status>& gup_test_probe() const { return gup_test_probe_; }

  // The false-pin experiment's bulk references: `count` vmsplice references on one page, held
  // in pipes of up to 256 buffers until DropBulkRefs() or shutdown.
  absl::Status TakeBulkRefs(const std::string& process, std::uint32_t addr, std::uint32_t count);
  void DropBulkRefs();

  const HostSnapshot& snapshot() const { return snapshot_; }
  const HostStats& stats() const { return stats_; }
  // `=> RESULT` assertions that did not hold: "line L: OP: expected X, got Y".
  const std::vector<std::string>& failures() const { return failures_; }
  const std::vector<std::string>& stand_ins() const { return stand_ins_; }
  std::vector<pid_t> agent_pids() const;

  // Kills and reaps every agent, releases every ring and pipe. Idempotent; the first error
  // (an agent that could not be reaped) is returned, the rest still released.
  absl::Status Shutdown();

 private:
  struct Agent {
    pid_t pid = -1;
    int pidfd = -1;
    int socket = -1;
  };
  struct Pin {
    PinMechanism mechanism = PinMechanism::kIoUring;
    IoUringRing ring;         // kIoUring
    int fuse_id = -1;         // kFuse*
    std::string pinner;       // kFuse*: the agent whose thread holds the call
    bool fuse_ended = false;  // kFuseWrite: `h write` answered (and so ended) the call
    int gup_fd = -1;          // kGupTest: the controller's (only) gup_test file, holding the set
    std::uint64_t pfn = 0;
  };

  explicit HostSession(const HostOptions& options);
  absl::StatusOr<AgentReply> Call(const std::string& name, const AgentCommand& cmd, int fd = -1);
  absl::StatusOr<AgentReply> Await(const std::string& name, Agent& agent);
  absl::Status Died(const std::string& name, Agent& agent);
  absl::Status Spawn(const std::string& name);
  absl::Status Fork(const std::string& parent, const std::string& child, AgentReply& reply);
  absl::Status PinOp(const mm::MmOp& op, HostStep& step);
  absl::Status FusePinOp(const mm::MmOp& op, PinMechanism mechanism, HostStep& step);
  absl::Status GupPinOp(const mm::MmOp& op, HostStep& step);
  static absl::Status ReleaseGup(Pin& pin);  // STOP, close
  absl::Status HandleOp(const mm::MmOp& op, HostStep& step);
  absl::Status JoinFuse(Pin& pin);
  absl::Status Reap(const std::string& name, bool kill_first);
  absl::Status Refresh();  // the snapshot, from every live agent
  void Record(const std::string& name, const AgentReply& reply);
  void Derive(const mm::MmOp& op, const HostSnapshot& before, HostStep& step);
  absl::Status Apply(const mm::MmOp& op, HostStep& step);

  HostOptions options_;
  pid_t controller_ = 0;
  pid_t group_ = 0;
  std::map<std::string, Agent> agents_;
  std::map<std::string, Pin> pins_;
  std::map<std::string, PinPlan> plan_;
  std::unique_ptr<FusePinDaemon> fuse_;
  std::optional<absl::Status> gup_test_probe_;
  int next_fuse_id_ = 0;
  std::map<std::string, int> refs_;  // the pipe's read end
  std::vector<int> bulk_refs_;
  HostSnapshot snapshot_;
  HostStats stats_;
  std::vector<std::string> failures_;
  std::vector<std::string> stand_ins_;
  bool broken_ = false;
};

}  // namespace pinsplit::host
