// SPDX-License-Identifier: MIT
// The attacker's price: the cheapest way to fill a field of a layout, per attack of
// /work/shared/research/pin-budget.md §2, in syscalls, RLIMIT_MEMLOCK bytes and kernel memory,
// computed from a table of kernel constants, each with its source or marked an estimate.
//
//   A1    R/W field   io_uring_register(REGISTER_BUFFERS), every iovec on the same 4 KiB page:
//                     a long-term R/W pin per iovec, one page of memlock each (no dedupe)
//   A2a   READ field  O_DIRECT writes sourced from a shared mapping to a slow (FUSE) target,
//                     submitted through io_uring: a short-term READ pin per request in flight
//   A2b   READ field  read-only RDMA memory registrations (ibv_reg_mr): long-term READ pins
//   A3    ordinary    mmap of the same file page, one VMA and PTE reference per mapping
//   A3'   ordinary    vmsplice/tee into pipe slots (2 slots per pipe past the per-user soft limit)
//   A3''  ordinary    O_DIRECT left pending on a slow FUSE file, FOLL_GET refs (before 6.3)
//   A3    maybe_pinned (bias only): 1024 mappings make a page look pinned
//
// Mitigations, each a switch shown against "none":
//   register_once            a registration context pins a page once (as iommufd does; io_uring
//                            cloned buffers since 6.12): one ring or RDMA context per pin
//   longterm_exclusive_anon  long-term pins only on exclusively mapped anonymous pages (the
//                            5.19 rule for anon pages, extended to shmem/file): a long-term pin
//                            of someone else's shared page is impossible ("blocked")
//   per_user_cap             at most kPerUserPinCap pins of one page per user: the attacker needs
//                            that many distinct users
// A mitigation that does not touch an attack (short-term DIO under register_once, any
// mitigation on ordinary references) is shown with applies = false and the unmitigated price.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "pinsplit/budget/layout_space.h"

namespace pinsplit::budget {

struct KernelConstant {
  std::string name;
  double value;
  std::string source;  // citation from the research file, or the basis of the estimate
  bool estimated;
};

// The table every price is computed from.
const std::vector<KernelConstant>& KernelConstants();
double Constant(const std::string& name);

enum class Mitigation { kNone, kRegisterOnce, kLongtermExclusiveAnon, kPerUserCap };
inline constexpr Mitigation kMitigations[] = {Mitigation::kNone, Mitigation::kRegisterOnce,
                                              Mitigation::kLongtermExclusiveAnon,
                                              Mitigation::kPerUserCap};
std::string MitigationName(Mitigation m);

struct AttackCost {
  std::string attack;  // "A1", "A2a", ...
  std::string field;   // "read", "write", "ordinary", "maybe_pinned"
  std::string how;     // one line
  LayoutSpec layout;
  Mitigation mitigation = Mitigation::kNone;
  bool applies = true;      // false: this mitigation does not touch this attack
  bool blocked = false;     // true: the mitigation makes the attack impossible; costs are unset
  std::uint64_t units = 0;  // pins or references the attacker must place
  std::uint64_t syscalls = 0;
  std::uint64_t memlock_bytes = 0;
  std::uint64_t kernel_bytes = 0;
  std::uint64_t users = 1;
  std::uint64_t processes = 1;
  bool estimated = true;  // every row uses at least one estimated constant
};

// Every attack on every field of `layout`, under every mitigation.
std::vector<AttackCost> AttackCosts(const LayoutSpec& layout);

}  // namespace pinsplit::budget
