// SPDX-License-Identifier: MIT
// The agent: one real process per script process. It owns the script's address space (address
// i is base + i * 4096, each page mapped MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE with
// MADV_NOHUGEPAGE and written once so it is present and exclusive, as the model's `map` is),
// runs one command at a time from its socket and answers each with the result and the page facts
// of every address it maps.
//
// Lifetime, so that nothing outlives the controller:
//   - every agent is a child of the controller: `spawn` is the controller's fork(), and the
//     script's `fork` is clone(CLONE_PARENT | SIGCHLD) in the agent - a real fork of its mm
//     (dup_mmap, COW, the anon-exclusive rules), whose child the controller reaps;
//   - PR_SET_PDEATHSIG(SIGKILL), checked against getppid() after it is set;
//   - the agents share one process group apart from the controller's, so a terminal's Ctrl-C
//     reaches only the controller, which then kills and reaps them in order;
//   - end of file on the command socket (the controller died) makes the agent _exit at once;
//   - an agent keeps no fd but its socket (fd 3) and stdio (and the file of a held FUSE call):
//     pipes, rings and the gup_test file live in the controller, so an agent's fork never
//     duplicates a reference or a pin holder; a FUSE call's thread is not copied by fork, and the
//     child forgets it.
// An agent never returns into the caller's code: it leaves with _exit.
#pragma once

#include <linux/io_uring.h>
#include <sys/types.h>

#include <cstdint>

#include "kernel_page_facts.h"

namespace pinsplit::host {

inline constexpr int kAgentPages = 64;                               // the model's kAddressSpace
inline constexpr std::uintptr_t kDefaultAgentBase = 0x7e9000000000;  // in every preset's app range
// Where the default is past the top of user space: user-mode Linux's is below 512 GiB
// (0x7f80000000 on the trial kernels), with its mmap area growing up from 1 GiB.
inline constexpr std::uintptr_t kLowAgentBase = 0x3e00000000;

// The first of kDefaultAgentBase, kLowAgentBase whose kAgentPages pages this process could map
// (probed with MAP_FIXED_NOREPLACE and unmapped); kDefaultAgentBase when neither.
std::uintptr_t ChooseAgentBase();

enum class AgentOp : std::uint32_t {
  kMap,       // addr..last
  kUnmap,     // addr
  kRead,      // addr -> value
  kWrite,     // addr, value
  kProtect,   // addr, value = writable
  kFork,      // fd passed: the child's socket; -> pid of the child
  kPin,       // addr: register the page on a new io_uring ring; -> fd, params
  kCloseFd,   // value = fd (the ring, once the controller has taken it)
  kRef,       // addr, count; fd passed: a pipe's write end to vmsplice into
  kFacts,     // nothing; just the facts
  kFusePin,   // addr, value = write pin, count = pin id, path: a held FUSE direct-I/O call
  kFuseJoin,  // count = pin id: wait for that call to return (its pin is over)
  kGupPin,  // addr, value = 1 write | 2 fast; fd passed: gup_test, START over the page, then closed
            // here
  kExit,    // answers, then _exit(0)
};

struct AgentCommand {
  AgentOp op = AgentOp::kFacts;
  std::uint32_t addr = 0;
  std::uint32_t last = 0;
  std::uint32_t count = 0;
  std::uint64_t value = 0;
  char path[160] = {};  // kFusePin: FusePinDaemon::PathFor(id)
};

struct AgentReply {
  std::int32_t error = 0;  // errno, or -1 for a refusal explained in `message`
  char message[120] = {};
  std::uint64_t value = 0;
  std::int64_t minor_faults = 0;  // ru_minflt during the command
  std::int32_t pid = 0;
  std::int32_t fd = -1;
  io_uring_params ring{};
  std::uint64_t mapped = 0;  // bit i: address i is mapped
  KernelPageFact facts[kAgentPages];
};

// Runs in a freshly forked (or cloned) child: sets up the lifetime rules above and serves
// commands on `socket_fd` until told to exit or the socket closes. `controller` is the pid the
// agent's parent must be; `group` the process group to join (0: start one).
[[noreturn]] void RunAgent(int socket_fd, pid_t controller, pid_t group, std::uintptr_t base);

}  // namespace pinsplit::host
