// The deliberately broken mm models of deterministic_mm_model.h: each is the production code
// with one flaw that narrows the window GUP-fast and fork race in, rather than removing a check.
// They are explicit specialisations of one member of BasicMmModel for their own Sync type, so
// core/ carries no trace of them.
#include "deterministic_mm_model.h"
#include "pinsplit/mm/mm_model_impl.h"
#include "pinsplit/mm/truth_oracle_impl.h"

namespace pinsplit::mm {

// GUP-fast that looks at write_protect_seq for the last time BEFORE its pin: a fork that bumps
// the sequence and checks the page between that look and the pin shares a page the pin then
// lands on; the entry recheck after the pin does not help while fork has not write-protected
// the entry yet.
template <>
PinOutcome BasicMmModel<RecheckBeforePinSync>::pin_fast(PinId id, ProcessId p, Addr addr,
                                                        PinKind kind, bool longterm) {
  using Sync = RecheckBeforePinSync;
  if (p >= options_.max_processes || addr >= kAddressSpace) return PinOutcome{};
  Process& proc = processes_[p];
  const std::uint32_t generation = proc.generation.load(std::memory_order_seq_cst);
  if (!proc.alive.load(std::memory_order_acquire)) return PinOutcome{};
  proc.has_pinned.store(true, std::memory_order_seq_cst);
  const std::uint32_t seq = proc.write_protect_seq.load(std::memory_order_seq_cst);
  if (options_.check_write_protect_seq && (seq & 1) != 0) return PinOutcome{};
  const std::uint64_t pte = proc.ptes[addr].load(std::memory_order_acquire);
  if (!Present(pte) || (kind == PinKind::kWrite && !Writable(pte))) return PinOutcome{};
  const PageId page = PageOf(pte);
  if (!policy_->fast_pin_allowed(facts(page, p), kind)) return PinOutcome{};
  // THE FLAW: the sequence is rechecked before the pin instead of after it.
  Sync::Fence(std::memory_order_seq_cst);
  if (options_.check_write_protect_seq &&
      proc.write_protect_seq.load(std::memory_order_seq_cst) != seq) {
    return PinOutcome{};
  }
  if (pages_[page].counter->try_pin(kind) != PinResult::kPinned) return PinOutcome{};
  Sync::Fence(std::memory_order_seq_cst);
  const bool recycled = proc.generation.load(std::memory_order_seq_cst) != generation ||
                        !proc.alive.load(std::memory_order_seq_cst);
  if (recycled || proc.ptes[addr].load(std::memory_order_seq_cst) != pte) {
    release(page, pages_[page].counter->unpin(kind));
    return PinOutcome{};
  }
  stats_.fast_pins.fetch_add(1, std::memory_order_relaxed);
  return record_pin(id, page, p, generation, addr, kind, longterm, /*fast=*/true);
}

// Fork that makes write_protect_seq odd only once it has copied the first present entry
// (copy_page_table below does the bump): a GUP-fast pin on that entry can land after fork
// decided to share the page and before it write-protected the entry, and recheck an
// unchanged, even sequence.
template <>
absl::StatusOr<ProcessId> BasicMmModel<LateForkBumpSync>::fork(ProcessId parent) {
  absl::StatusOr<LockedProcess> proc = lock_process(parent);
  if (!proc.ok()) return proc.status();
  Process& from = **proc;
  absl::StatusOr<ProcessId> child = claim_process();
  if (!child.ok()) return child.status();
  Process& to = processes_[*child];
  // THE FLAW: no bump here; copy_page_table bumps after the first entry.
  absl::Status status = copy_page_table(from, parent, to, *child);
  from.write_protect_seq.fetch_add(1, std::memory_order_seq_cst);
  if (!status.ok()) {
    unmap_all(to, *child);
    release_process(*child);
    return status;
  }
  to.alive.store(true, std::memory_order_release);
  return *child;
}

template <>
absl::Status BasicMmModel<LateForkBumpSync>::copy_page_table(Process& from, ProcessId parent,
                                                             Process& to, ProcessId child) {
  using Sync = LateForkBumpSync;
  bool bumped = false;
  const auto bump = [&] {
    from.write_protect_seq.fetch_add(1, std::memory_order_seq_cst);
    Sync::Fence(std::memory_order_seq_cst);
    bumped = true;
  };
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
      if (!bumped) bump();
      continue;
    }
    BasicPage<Sync>& shared = pages_[page];
    shared.counter->get();
    shared.mapcount.fetch_add(1, std::memory_order_acq_rel);
    shared.exclusive.store(false, std::memory_order_release);
    add_mapping(page, child, a);
    from.ptes[a].store(MakePte(page, false), std::memory_order_seq_cst);
    to.ptes[a].store(MakePte(page, false), std::memory_order_release);
    if (!bumped) bump();
  }
  if (!bumped) bump();
  return absl::OkStatus();
}

// split's GUP-fast as it was: mapcount == 1 alone licenses the lockless pin. Mapcount drops when
// another process unmaps, exits or copies, without this process's lock, so a write fault here
// that decided to copy on mapcount 2 can replace the entry after the pin landed and rechecked.
template <>
bool BasicMmModel<MapcountFastPinSync>::fast_pin_allowed(PageId page, ProcessId p,
                                                         PinKind kind) const {
  // THE FLAW (split only): no AnonExclusive check.
  return policy_->name() == "split" ? facts(page, p).mapcount() == 1
                                    : policy_->fast_pin_allowed(facts(page, p), kind);
}

template class BasicMmModel<MapcountFastPinSync>;
template class BasicTruthOracle<BasicMmModel<MapcountFastPinSync>>;
template class BasicMmModel<RecheckBeforePinSync>;
template class BasicTruthOracle<BasicMmModel<RecheckBeforePinSync>>;
template class BasicMmModel<LateForkBumpSync>;
template class BasicTruthOracle<BasicMmModel<LateForkBumpSync>>;

}  // namespace pinsplit::mm
