// SPDX-License-Identifier: MIT
#include "pinsplit/budget/attack_cost.h"

#include <algorithm>
#include <cmath>
#include <map>

namespace pinsplit::budget {
namespace {

std::uint64_t CeilDiv(std::uint64_t a, std::uint64_t b) { return b == 0 ? 0 : (a + b - 1) / b; }

std::uint64_t C(const char* name) { return static_cast<std::uint64_t>(Constant(name)); }

// Users needed so that each stays within the default RLIMIT_MEMLOCK.
std::uint64_t MemlockUsers(std::uint64_t memlock) {
  return std::max<std::uint64_t>(1, CeilDiv(memlock, C("memlock_default_bytes")));
}

// Processes needed to hold `fds` descriptors at the default RLIMIT_NOFILE.
std::uint64_t FdProcesses(std::uint64_t fds) {
  return std::max<std::uint64_t>(1, CeilDiv(fds, C("nofile_default")));
}

AttackCost Row(const char* attack, const char* field, const char* how, const LayoutSpec& layout,
               Mitigation m, std::uint64_t units) {
  AttackCost row;
  row.attack = attack;
  row.field = field;
  row.how = how;
  row.layout = layout;
  row.mitigation = m;
  row.units = units;
  return row;
}

// A1: io_uring fixed buffers, every iovec on the target page.
AttackCost A1(const LayoutSpec& layout, Mitigation m, std::uint64_t c) {
  AttackCost r =
      Row("A1", "write", "io_uring REGISTER_BUFFERS, every iovec on the page", layout, m, c);
  const std::uint64_t page = C("page_bytes");
  std::uint64_t rings = CeilDiv(c, C("io_uring_max_reg_buffers"));
  r.memlock_bytes = c * page;  // a 4 KiB page is accounted once per iovec (no dedupe)
  r.users = MemlockUsers(r.memlock_bytes);
  switch (m) {
    case Mitigation::kNone:
      break;
    case Mitigation::kRegisterOnce:
      rings = c;  // one pin per ring
      break;
    case Mitigation::kLongtermExclusiveAnon:
      r.blocked = true;
      return r;
    case Mitigation::kPerUserCap:
      r.users = std::max(r.users, CeilDiv(c, C("per_user_pin_cap")));
      rings = std::max(rings, r.users);
      break;
  }
  r.syscalls = 2 * rings;  // io_uring_setup + io_uring_register
  r.processes = std::max(r.users, FdProcesses(rings));
  r.kernel_bytes = c * C("bvec_bytes") + rings * C("io_uring_ring_bytes");
  return r;
}

// A2a: O_DIRECT writes from a shared mapping to a slow FUSE file, through io_uring.
AttackCost A2a(const LayoutSpec& layout, Mitigation m, std::uint64_t c, const char* attack,
               const char* field, const char* how) {
  AttackCost r = Row(attack, field, how, layout, m, c);
  std::uint64_t rings = CeilDiv(c, C("io_uring_max_entries"));
  const bool pins = r.field != std::string("ordinary");
  r.applies = m == Mitigation::kNone || (pins && m == Mitigation::kPerUserCap);
  if (r.applies && m == Mitigation::kPerUserCap) {
    r.users = CeilDiv(c, C("per_user_pin_cap"));
    rings = std::max(rings, r.users);
  }
  r.syscalls = C("fuse_setup_syscalls") + 2 * rings;  // setup + one io_uring_enter per ring
  r.memlock_bytes = 0;                                // short-term pins are not accounted
  r.kernel_bytes = c * C("dio_bytes_per_request") + rings * C("io_uring_ring_bytes");
  r.processes = std::max<std::uint64_t>(2, r.users + 1);  // and the FUSE daemon
  return r;
}

// A2b: read-only RDMA memory registrations.
AttackCost A2b(const LayoutSpec& layout, Mitigation m, std::uint64_t c) {
  AttackCost r =
      Row("A2b", "read", "read-only ibv_reg_mr of the page (RDMA device needed)", layout, m, c);
  r.memlock_bytes = c * C("page_bytes");
  r.users = MemlockUsers(r.memlock_bytes);
  std::uint64_t contexts = 1;
  switch (m) {
    case Mitigation::kNone:
      break;
    case Mitigation::kRegisterOnce:
      contexts = c;
      break;
    case Mitigation::kLongtermExclusiveAnon:
      r.blocked = true;
      return r;
    case Mitigation::kPerUserCap:
      r.users = std::max(r.users, CeilDiv(c, C("per_user_pin_cap")));
      contexts = r.users;
      break;
  }
  r.syscalls = 2 * contexts + c;  // open the device, allocate a PD; one registration per pin
  r.processes = std::max(r.users, FdProcesses(contexts));
  r.kernel_bytes = c * C("rdma_mr_bytes");
  return r;
}

// A3: one mapping per reference; max_map_count mappings per process.
AttackCost A3(const LayoutSpec& layout, Mitigation m, std::uint64_t c, const char* field) {
  AttackCost r = Row("A3", field, "mmap the same file page once per reference", layout, m, c);
  r.applies = m == Mitigation::kNone;
  r.processes = std::max<std::uint64_t>(1, CeilDiv(c, C("max_map_count")));
  r.syscalls = c + (r.processes - 1);  // one mmap each, one fork per further process
  r.kernel_bytes = c * (C("vma_bytes") + C("pte_bytes"));
  return r;
}

// A3': pipe slots pointing at the page; full-size pipes until the per-user soft limit, then 2.
AttackCost A3Pipes(const LayoutSpec& layout, Mitigation m, std::uint64_t c) {
  AttackCost r = Row("A3'", "ordinary", "vmsplice/tee the page into pipe slots", layout, m, c);
  r.applies = m == Mitigation::kNone;
  const std::uint64_t soft = std::min(c, C("pipe_user_soft_slots"));
  const std::uint64_t big_pipes = CeilDiv(soft, C("pipe_max_slots"));
  const std::uint64_t small_pipes = CeilDiv(c - soft, C("pipe_min_def_buffers"));
  const std::uint64_t pipes = big_pipes + small_pipes;
  r.processes = FdProcesses(2 * pipes);
  // pipe2 + F_SETPIPE_SZ + vmsplice for a full-size pipe, pipe2 + vmsplice past the soft limit.
  r.syscalls = 3 * big_pipes + 2 * small_pipes + (r.processes - 1);
  r.kernel_bytes = pipes * C("pipe_bytes");
  return r;
}

}  // namespace

const std::vector<KernelConstant>& KernelConstants() {
  static const auto* table = new std::vector<KernelConstant>{
      {"page_bytes", 4096, "research §1b: one 4 KiB page (x86-64 small page)", false},
      {"io_uring_max_reg_buffers", 16384, "io_uring/rsrc.c IORING_MAX_REG_BUFFERS (research §1a)",
       false},
      {"io_uring_max_entries", 32768, "io_uring/io_uring.h IORING_MAX_ENTRIES (research §1a)",
       false},
      {"memlock_default_bytes", 8 << 20,
       "include/uapi/linux/resource.h MLOCK_LIMIT since 5.16, 9dcc38e2813e (research §1a)", false},
      {"pipe_max_slots", 256, "fs/pipe.c pipe_max_size 1048576 B (research §1a)", false},
      {"pipe_user_soft_slots", 16384, "fs/pipe.c pipe-user-pages-soft (research §1a)", false},
      {"pipe_min_def_buffers", 2, "fs/pipe.c PIPE_MIN_DEF_BUFFERS (research §1a)", false},
      {"max_map_count", 65530, "Documentation/admin-guide/sysctl/vm.rst (research §1a)", false},
      {"nofile_default", 1024, "commit 759c01142a5d: default FDs per process (research §1a)",
       false},
      {"vma_bytes", 200,
       "lore:CAG48ez2-MTJ2YrS5fPZi19RY6P_6NWuK1U5CcQpJ25=xrGSy_A@mail.gmail.com (Jann Horn, 2018)",
       false},
      {"pte_bytes", 8, "estimate: research A3, ~32 MiB of PTEs for 4.2 M mappings", true},
      {"pipe_bytes", 2048, "estimate: research A3', ~1-3 KiB per pipe (open question 8)", true},
      {"dio_bytes_per_request", 33,
       "estimate scaled from merge 6b3a70773630: 140 GB for 2^32 pending DIO refs", true},
      {"bvec_bytes", 16, "estimate: one struct bio_vec per registered page", true},
      {"io_uring_ring_bytes", 16384, "estimate: a minimal ring (context, SQ/CQ pages)", true},
      {"rdma_mr_bytes", 1024, "estimate: an ib_umem and MR object per registration", true},
      {"fuse_setup_syscalls", 3, "estimate: open /dev/fuse, mount, open the file", true},
      {"per_user_pin_cap", 4, "estimate: the mitigation's parameter, pins of one page per user",
       true},
  };
  return *table;
}

double Constant(const std::string& name) {
  for (const KernelConstant& c : KernelConstants()) {
    if (c.name == name) return c.value;
  }
  std::abort();  // a name missing from the table is a programming error
}

std::string MitigationName(Mitigation m) {
  switch (m) {
    case Mitigation::kNone:
      return "none";
    case Mitigation::kRegisterOnce:
      return "register_once";
    case Mitigation::kLongtermExclusiveAnon:
      return "longterm_exclusive_anon";
    case Mitigation::kPerUserCap:
      return "per_user_cap";
  }
  return "?";
}

std::vector<AttackCost> AttackCosts(const LayoutSpec& layout) {
  std::uint64_t read, write, ordinary;
  if (layout.bias) {
    read = write = (kBiasMaxCount - 1) / kBiasPinWeight;  // the owner's reference stays
    ordinary = kBiasMaxCount - 1;
  } else {
    read = layout.ReadCapacity();
    write = layout.WriteCapacity();
    ordinary = layout.OrdinaryCapacity() - 1;
  }
  std::vector<AttackCost> rows;
  for (Mitigation m : kMitigations) {
    rows.push_back(A1(layout, m, write));
    rows.push_back(A2a(layout, m, read, "A2a", "read",
                       "O_DIRECT writes from a shared mapping to a slow FUSE file"));
    rows.push_back(A2b(layout, m, read));
    rows.push_back(A3(layout, m, ordinary, "ordinary"));
    rows.push_back(A3Pipes(layout, m, ordinary));
    rows.push_back(A2a(layout, m, ordinary, "A3''", "ordinary",
                       "O_DIRECT left pending on a slow FUSE file (FOLL_GET, before 6.3)"));
    if (layout.bias) rows.push_back(A3(layout, m, kBiasPinWeight - 1, "maybe_pinned"));
  }
  return rows;
}

}  // namespace pinsplit::budget
