// SPDX-License-Identifier: MIT
// What the kernel shows about the pages a process maps: /proc/self/pagemap (present bit and
// PFN), /proc/kpagecount (the mapcount) and /proc/kpageflags bit 34 (KPF_OWNER_2, which on an
// anonymous small folio is PG_anon_exclusive). Reading PFNs and /proc/kpage* needs root
// (CAP_SYS_ADMIN); without it pagemap reports PFN 0 and ReadPageFacts fails.
//
// For a THP only the head page's flag is visible; the host backend maps with MADV_NOHUGEPAGE so
// every page is a small folio. Refcount and pincount are not visible at all
// (../shared/research/host-kernel.md, "What the page state shows").
#pragma once

#include <cstdint>

#include "absl/status/status.h"

namespace pinsplit::host {

inline constexpr int kKpfAnonExclusive = 34;  // KPF_OWNER_2 (formerly KPF_MAPPEDTODISK)
inline constexpr int kKpfZeroPage = 24;       // KPF_ZERO_PAGE

struct KernelPageFact {
  std::uint64_t pfn = 0;
  std::uint64_t flags = 0;  // kpageflags
  std::uint32_t mapcount = 0;
  bool present = false;
  bool exclusive() const { return (flags >> kKpfAnonExclusive) & 1; }
};

// Fills out[0..count) for the pages at base, base + 4096, ... in the calling process.
absl::Status ReadPageFacts(std::uintptr_t base, int count, KernelPageFact* out);

}  // namespace pinsplit::host
