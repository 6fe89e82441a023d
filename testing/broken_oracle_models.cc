// SPDX-License-Identifier: MIT
// The flaws of broken_oracle_models.h, and the instantiations of their models and oracles.
#include "broken_oracle_models.h"

#include "pinsplit/mm/mm_model_impl.h"
#include "pinsplit/mm/truth_oracle_impl.h"

namespace pinsplit::mm {

template <>
PinOutcome BasicMmModel<FastWritePinIgnoresProtectionSync>::pin_fast(PinId id, ProcessId p,
                                                                     Addr addr, PinKind kind,
                                                                     bool longterm) {
  using Sync = FastWritePinIgnoresProtectionSync;
  if (p >= options_.max_processes || addr >= kAddressSpace) return PinOutcome{};
  Process& proc = processes_[p];
  const std::uint32_t generation = proc.generation.load(std::memory_order_seq_cst);
  if (!proc.alive.load(std::memory_order_acquire)) return PinOutcome{};
  proc.has_pinned.store(true, std::memory_order_seq_cst);
  const std::uint32_t seq = proc.write_protect_seq.load(std::memory_order_seq_cst);
  if (options_.check_write_protect_seq && (seq & 1) != 0) return PinOutcome{};
  const std::uint64_t pte = proc.ptes[addr].load(std::memory_order_acquire);
  // THE FLAW: a write pin does not ask whether the entry is writable.
  if (!Present(pte)) return PinOutcome{};
  const PageId page = PageOf(pte);
  if (!fast_pin_allowed(page, p, kind)) return PinOutcome{};
  if (pages_[page].counter->try_pin(kind) != PinResult::kPinned) return PinOutcome{};
  Sync::Fence(std::memory_order_seq_cst);
  const bool seq_moved = options_.check_write_protect_seq &&
                         proc.write_protect_seq.load(std::memory_order_seq_cst) != seq;
  const bool recycled = proc.generation.load(std::memory_order_seq_cst) != generation ||
                        !proc.alive.load(std::memory_order_seq_cst);
  if (seq_moved || recycled || proc.ptes[addr].load(std::memory_order_seq_cst) != pte) {
    release(page, pages_[page].counter->unpin(kind));
    return PinOutcome{};
  }
  stats_.fast_pins.fetch_add(1, std::memory_order_relaxed);
  return record_pin(id, page, p, generation, addr, kind, longterm, /*fast=*/true);
}

template <>
absl::Status BasicMmModel<ForkLeavesParentWritableSync>::copy_page_table(Process& from,
                                                                         ProcessId parent,
                                                                         Process& to,
                                                                         ProcessId child) {
  for (Addr a = 0; a < kAddressSpace; ++a) {
    const std::uint64_t pte = from.ptes[a].load(std::memory_order_relaxed);
    if (!Present(pte)) continue;
    const PageId page = PageOf(pte);
    to.prot[a] = from.prot[a];
    if (policy_->on_fork(facts(page, parent)) == ForkDecision::kCopy) {
      absl::StatusOr<PageId> copy =
          alloc_page(pages_[page].payload.load(std::memory_order_relaxed));
      if (!copy.ok()) return copy.status();
      stats_.copies_at_fork.fetch_add(1, std::memory_order_relaxed);
      add_mapping(*copy, child, a);
      to.ptes[a].store(MakePte(*copy, from.prot[a] == kReadWrite), std::memory_order_release);
      continue;
    }
    auto& shared = pages_[page];
    shared.counter->get();
    shared.mapcount.fetch_add(1, std::memory_order_acq_rel);
    shared.exclusive.store(false, std::memory_order_release);
    add_mapping(page, child, a);
    // THE FLAW: the parent's entry keeps its write bit.
    to.ptes[a].store(MakePte(page, false), std::memory_order_release);
  }
  return absl::OkStatus();
}

template <>
absl::Status BasicMmModel<ForkKeepsExclusiveSync>::copy_page_table(Process& from, ProcessId parent,
                                                                   Process& to, ProcessId child) {
  for (Addr a = 0; a < kAddressSpace; ++a) {
    const std::uint64_t pte = from.ptes[a].load(std::memory_order_relaxed);
    if (!Present(pte)) continue;
    const PageId page = PageOf(pte);
    to.prot[a] = from.prot[a];
    if (policy_->on_fork(facts(page, parent)) == ForkDecision::kCopy) {
      absl::StatusOr<PageId> copy =
          alloc_page(pages_[page].payload.load(std::memory_order_relaxed));
      if (!copy.ok()) return copy.status();
      stats_.copies_at_fork.fetch_add(1, std::memory_order_relaxed);
      add_mapping(*copy, child, a);
      to.ptes[a].store(MakePte(*copy, from.prot[a] == kReadWrite), std::memory_order_release);
      continue;
    }
    auto& shared = pages_[page];
    shared.counter->get();
    shared.mapcount.fetch_add(1, std::memory_order_acq_rel);
    // THE FLAW: the AnonExclusive flag is not cleared when the page becomes shared.
    add_mapping(page, child, a);
    from.ptes[a].store(MakePte(page, false), std::memory_order_seq_cst);
    to.ptes[a].store(MakePte(page, false), std::memory_order_release);
  }
  return absl::OkStatus();
}

template <>
absl::Status BasicMmModel<MprotectKeepsWritableSync>::protect(ProcessId p, Addr addr,
                                                              bool writable) {
  absl::StatusOr<LockedProcess> proc = lock_process(p);
  if (!proc.ok()) return proc.status();
  absl::StatusOr<PageId> page = mapped_page(**proc, p, addr);
  if (!page.ok()) return page.status();
  (*proc)->prot[addr] = writable ? kReadWrite : kReadOnly;
  // THE FLAW: the entry is not write-protected.
  return absl::OkStatus();
}

template <>
void BasicMmModel<UnmapKeepsMapcountSync>::drop_mapping(PageId id, ProcessId p, Addr addr) {
  auto& page = pages_[id];
  {
    std::lock_guard lock(page.holders_mu);
    auto& m = page.holders.mappings;
    auto it = std::find(m.begin(), m.end(), std::make_pair(p, addr));
    if (it != m.end()) m.erase(it);
  }
  // THE FLAW: no mapcount decrement.
  release(id, page.counter->put());
}

template class BasicMmModel<FastWritePinIgnoresProtectionSync>;
template class BasicTruthOracle<BasicMmModel<FastWritePinIgnoresProtectionSync>>;
template class BasicMmModel<ForkLeavesParentWritableSync>;
template class BasicTruthOracle<BasicMmModel<ForkLeavesParentWritableSync>>;
template class BasicMmModel<ForkKeepsExclusiveSync>;
template class BasicTruthOracle<BasicMmModel<ForkKeepsExclusiveSync>>;
template class BasicMmModel<MprotectKeepsWritableSync>;
template class BasicTruthOracle<BasicMmModel<MprotectKeepsWritableSync>>;
template class BasicMmModel<UnmapKeepsMapcountSync>;
template class BasicTruthOracle<BasicMmModel<UnmapKeepsMapcountSync>>;

}  // namespace pinsplit::mm
