// SPDX-License-Identifier: MIT
// The definitions of BasicMmModel<Sync> (mm_model.h). Included by mm_model.cc, which
// instantiates the production model (StdSync), and by testing/deterministic_mm_model.cc, which
// instantiates it on the deterministic scheduler's atomics and mutex. Nothing else includes it.
#pragma once

#include <algorithm>
#include <numeric>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "pinsplit/mm/mm_model.h"

namespace pinsplit::mm {
// Internal to the model; in a header so that testing/ can instantiate it on its own Sync.
namespace mm_model_internal {

// A page-table entry: present and writable bits over the page id.
constexpr std::uint64_t kPresent = std::uint64_t{1} << 63;
constexpr std::uint64_t kWritable = std::uint64_t{1} << 62;

constexpr std::uint64_t MakePte(PageId page, bool writable) {
  return kPresent | (writable ? kWritable : 0) | page;
}
constexpr bool Present(std::uint64_t pte) { return (pte & kPresent) != 0; }
constexpr bool Writable(std::uint64_t pte) { return (pte & kWritable) != 0; }
constexpr PageId PageOf(std::uint64_t pte) { return static_cast<PageId>(pte & 0xFFFFFFFFu); }

enum Protection : std::uint8_t { kNone, kReadOnly, kReadWrite };

inline absl::Status Precondition(absl::string_view text) {
  return absl::FailedPreconditionError(text);
}

}  // namespace mm_model_internal

using namespace mm_model_internal;  // NOLINT: the impl header's own names

template <class Sync>
struct BasicMmModel<Sync>::Process {
  typename Sync::Mutex mmap_lock;
  bool slot_used = false;  // under processes_mu_; a forking child is used but not yet alive
  typename Sync::template Atomic<bool> alive{false};
  // Bumped each time the slot is claimed: GUP-fast rechecks it, as the kernel's mm reference
  // keeps an mm from being recycled under a lockless walk; pins record it with their owner.
  typename Sync::template Atomic<std::uint32_t> generation{0};
  typename Sync::template Atomic<std::uint32_t> write_protect_seq{0};
  typename Sync::template Atomic<bool> has_pinned{false};
  std::array<typename Sync::template Atomic<std::uint64_t>, kAddressSpace> ptes{};
  std::array<std::uint8_t, kAddressSpace> prot{};  // under mmap_lock
};

// A process under its mmap_lock, alive when locked.
template <class Sync>
struct BasicMmModel<Sync>::LockedProcess {
  Process* process;
  std::unique_lock<typename Sync::Mutex> lock;
  Process* operator->() const { return process; }
  Process& operator*() const { return *process; }
};

template <class Sync>
struct BasicMmModel<Sync>::Handle {
  std::atomic<bool> live{false};
  PageId page = kNoPage;
  ProcessId owner = 0;
  Addr addr = 0;
  PinKind kind = PinKind::kRead;
  bool longterm = false;
};

template <class Sync>
absl::StatusOr<std::unique_ptr<BasicMmModel<Sync>>> BasicMmModel<Sync>::Create(
    const MmOptions& options) {
  auto model = std::unique_ptr<BasicMmModel>(new BasicMmModel(options));
  absl::StatusOr<std::unique_ptr<Policy>> policy = MakePolicy(options.policy);
  if (!policy.ok()) return policy.status();
  model->policy_ = *std::move(policy);
  const std::string impl =
      options.impl.empty() ? std::string(model->policy_->default_counter()) : options.impl;
  // Page 0's counter now, to learn the scheme and reject a bad name; the rest when first
  // allocated (alloc_page), so a small run does not pay for the whole arena.
  model->impl_ = impl;
  if (options.max_pages > 0) {
    absl::StatusOr<std::unique_ptr<AnyRefcount>> counter = Sync::MakeCounter(impl, 0);
    if (!counter.ok()) return counter.status();
    model->pages_[0].counter = *std::move(counter);
    model->capabilities_ = model->pages_[0].counter->capabilities();
    model->counter_name_ = std::string(model->pages_[0].counter->name());
  }
  if (!model->policy_->accepts(model->capabilities_)) {
    return absl::InvalidArgumentError(absl::StrCat("policy '", options.policy,
                                                   "' cannot decide with counter '", impl,
                                                   "' (it needs exact pins of each kind)"));
  }
  return model;
}

template <class Sync>
BasicMmModel<Sync>::BasicMmModel(const MmOptions& options)
    : options_(options),
      pages_(new BasicPage<Sync>[options.max_pages]),
      processes_(new Process[options.max_processes]),
      pins_(new Handle[options.max_handles]),
      refs_(new Handle[options.max_handles]) {
  fill_free_lists();
}

template <class Sync>
BasicMmModel<Sync>::~BasicMmModel() = default;

// The text is built even when nobody listens: the storms' narrow races (fork against GUP-fast)
// are tuned on the time these paths take, so this stays as it was.
template <class Sync>
void BasicMmModel<Sync>::event(std::string text) {
  if (events_ != nullptr) events_->push_back(std::move(text));
}

template <class Sync>
void BasicMmModel<Sync>::reset() {
  const PageId touched = pages_touched_.load(std::memory_order_relaxed);
  for (PageId i = 0; i < touched; ++i) {
    BasicPage<Sync>& page = pages_[i];
    page.in_use.store(false, std::memory_order_relaxed);
    page.payload.store(0, std::memory_order_relaxed);
    page.mapcount.store(0, std::memory_order_relaxed);
    page.exclusive.store(false, std::memory_order_relaxed);
    page.generation.store(0, std::memory_order_relaxed);
    page.holders.clear();
  }
  pages_touched_.store(0, std::memory_order_relaxed);
  for (std::uint32_t p = 0; p < options_.max_processes; ++p) {
    Process& proc = processes_[p];
    // Generation 0: never claimed since built or reset, so still as new.
    if (proc.generation.load(std::memory_order_relaxed) == 0) continue;
    proc.slot_used = false;
    proc.alive.store(false, std::memory_order_relaxed);
    proc.generation.store(0, std::memory_order_relaxed);
    proc.write_protect_seq.store(0, std::memory_order_relaxed);
    proc.has_pinned.store(false, std::memory_order_relaxed);
    for (auto& pte : proc.ptes) pte.store(0, std::memory_order_relaxed);
    proc.prot.fill(kNone);
  }
  for (std::uint32_t h = 0; h < handles_touched_; ++h) {
    pins_[h].live.store(false, std::memory_order_relaxed);
    refs_[h].live.store(false, std::memory_order_relaxed);
  }
  handles_touched_ = 0;
  // The lists as Create() made them: copies, not a refill, since a reset is on the hot path.
  free_pages_ = initial_free_pages_;
  free_pins_ = initial_free_handles_;
  free_refs_ = initial_free_handles_;
  for (auto* stat :
       {&stats_.copies_at_fork, &stats_.copies_at_fault, &stats_.unshares, &stats_.pins_refused,
        &stats_.fast_pins, &stats_.fast_pin_fallbacks, &stats_.pages_allocated, &stats_.pages_freed,
        &policy_counters_.false_maybe_pinned}) {
    stat->store(0, std::memory_order_relaxed);
  }
}

// Free lists hand out the lowest index first (their backs).
template <class Sync>
void BasicMmModel<Sync>::fill_free_lists() {
  const auto descending = [](std::vector<std::uint32_t>& list, std::uint32_t n) {
    list.resize(n);
    std::iota(list.rbegin(), list.rend(), 0u);
  };
  descending(free_pages_, options_.max_pages);
  descending(free_pins_, options_.max_handles);
  descending(free_refs_, options_.max_handles);
  initial_free_pages_ = free_pages_;
  initial_free_handles_ = free_pins_;
}

// ---- pages -------------------------------------------------------------------------------

template <class Sync>
absl::StatusOr<PageId> BasicMmModel<Sync>::alloc_page(std::uint64_t payload) {
  PageId id;
  {
    std::lock_guard lock(arena_mu_);
    if (free_pages_.empty()) {
      return absl::ResourceExhaustedError(
          absl::StrCat("out of pages (max_pages = ", options_.max_pages, ")"));
    }
    id = free_pages_.back();
    if (pages_[id].counter == nullptr) {
      // First use of this arena slot. The scheme was checked on page 0 at Create, and the
      // pointer is published to lockless walkers by the page-table store that maps the page.
      absl::StatusOr<std::unique_ptr<AnyRefcount>> counter = Sync::MakeCounter(impl_, 0);
      if (!counter.ok()) return counter.status();
      pages_[id].counter = *std::move(counter);
    }
    free_pages_.pop_back();
    if (id >= pages_touched_.load(std::memory_order_relaxed)) {
      pages_touched_.store(id + 1, std::memory_order_release);
    }
  }
  BasicPage<Sync>& page = pages_[id];
  page.payload.store(payload, std::memory_order_relaxed);
  page.mapcount.store(1, std::memory_order_relaxed);
  page.exclusive.store(true, std::memory_order_relaxed);
  {
    std::lock_guard lock(page.holders_mu);
    page.holders.clear();
  }
  page.in_use.store(true, std::memory_order_relaxed);
  page.counter->reset(1, 0, 0, false);  // release: publishes everything above
  stats_.pages_allocated.fetch_add(1, std::memory_order_relaxed);
  return id;
}

template <class Sync>
void BasicMmModel<Sync>::free_page(PageId id) {
  BasicPage<Sync>& page = pages_[id];
  page.in_use.store(false, std::memory_order_relaxed);
  page.generation.fetch_add(1, std::memory_order_relaxed);
  stats_.pages_freed.fetch_add(1, std::memory_order_relaxed);
  event(absl::StrCat("page ", id, " freed"));
  std::lock_guard lock(arena_mu_);
  free_pages_.push_back(id);
}

template <class Sync>
void BasicMmModel<Sync>::release(PageId page, PutResult result) {
  if (result == PutResult::kLast) free_page(page);
}

template <class Sync>
void BasicMmModel<Sync>::add_mapping(PageId id, ProcessId p, Addr addr) {
  BasicPage<Sync>& page = pages_[id];
  std::lock_guard lock(page.holders_mu);
  page.holders.mappings.emplace_back(p, addr);
}

// Removes one mapping's bookkeeping and drops its reference (which may free the page).
template <class Sync>
void BasicMmModel<Sync>::drop_mapping(PageId id, ProcessId p, Addr addr) {
  BasicPage<Sync>& page = pages_[id];
  {
    std::lock_guard lock(page.holders_mu);
    auto& m = page.holders.mappings;
    auto it = std::find(m.begin(), m.end(), std::make_pair(p, addr));
    if (it != m.end()) m.erase(it);
  }
  page.mapcount.fetch_sub(1, std::memory_order_acq_rel);
  release(id, page.counter->put());
}

template <class Sync>
PageFacts BasicMmModel<Sync>::facts(PageId page, ProcessId actor) const {
  const Process& proc = processes_[actor];
  const bool has_pinned = proc.has_pinned.load(std::memory_order_acquire);
  const ProcessKey key = MakeProcessKey(actor, proc.generation.load(std::memory_order_acquire));
  return PageFacts(pages_[page], actor, key, has_pinned, policy_counters_);
}

// ---- processes ---------------------------------------------------------------------------

template <class Sync>
absl::StatusOr<typename BasicMmModel<Sync>::LockedProcess> BasicMmModel<Sync>::lock_process(
    ProcessId p) {
  absl::StatusOr<Process*> proc = live_process(p);
  if (!proc.ok()) return proc.status();
  std::unique_lock lock((*proc)->mmap_lock);
  if (absl::Status s = still_alive(**proc, p); !s.ok()) return s;
  return LockedProcess{*proc, std::move(lock)};
}

template <class Sync>
absl::StatusOr<typename BasicMmModel<Sync>::Process*> BasicMmModel<Sync>::live_process(
    ProcessId p) {
  if (p >= options_.max_processes || !processes_[p].alive.load(std::memory_order_acquire)) {
    return Precondition(absl::StrCat("no live process ", p));
  }
  return &processes_[p];
}

// Liveness checked again under the mmap_lock: the process may have exited, and its slot been
// reused, between live_process() and the lock.
template <class Sync>
absl::Status BasicMmModel<Sync>::still_alive(const Process& proc, ProcessId p) const {
  if (proc.alive.load(std::memory_order_acquire)) return absl::OkStatus();
  return Precondition(absl::StrCat("no live process ", p));
}

template <class Sync>
absl::StatusOr<PageId> BasicMmModel<Sync>::mapped_page(const Process& proc, ProcessId p,
                                                       Addr addr) const {
  if (addr >= kAddressSpace) {
    return Precondition(absl::StrCat("address ", addr, " is outside 0..", kAddressSpace - 1));
  }
  const std::uint64_t pte = proc.ptes[addr].load(std::memory_order_acquire);
  if (!Present(pte)) return Precondition(absl::StrCat("nothing is mapped at ", addr));
  return PageOf(pte);
}

template <class Sync>
absl::StatusOr<ProcessId> BasicMmModel<Sync>::claim_process() {
  std::lock_guard lock(processes_mu_);
  for (ProcessId p = 0; p < options_.max_processes; ++p) {
    Process& proc = processes_[p];
    if (proc.slot_used) continue;
    proc.slot_used = true;
    proc.generation.fetch_add(1, std::memory_order_acq_rel);
    proc.has_pinned.store(false, std::memory_order_relaxed);
    for (auto& pte : proc.ptes) pte.store(0, std::memory_order_relaxed);
    proc.prot.fill(kNone);
    return p;
  }
  return absl::ResourceExhaustedError(
      absl::StrCat("out of processes (max_processes = ", options_.max_processes, ")"));
}

template <class Sync>
void BasicMmModel<Sync>::release_process(ProcessId p) {
  std::lock_guard lock(processes_mu_);
  processes_[p].alive.store(false, std::memory_order_release);
  processes_[p].slot_used = false;
}

// Drops every mapping of a process; its mmap_lock held.
template <class Sync>
void BasicMmModel<Sync>::unmap_all(Process& proc, ProcessId p) {
  for (Addr a = 0; a < kAddressSpace; ++a) {
    const std::uint64_t pte = proc.ptes[a].exchange(0, std::memory_order_acq_rel);
    proc.prot[a] = kNone;
    if (Present(pte)) drop_mapping(PageOf(pte), p, a);
  }
}

template <class Sync>
absl::StatusOr<ProcessId> BasicMmModel<Sync>::spawn() {
  absl::StatusOr<ProcessId> p = claim_process();
  if (p.ok()) processes_[*p].alive.store(true, std::memory_order_release);
  return p;
}

template <class Sync>
absl::Status BasicMmModel<Sync>::map(ProcessId p, Addr first, Addr last) {
  absl::StatusOr<LockedProcess> proc = lock_process(p);
  if (!proc.ok()) return proc.status();
  if (first > last || last >= kAddressSpace) {
    return Precondition(absl::StrCat("bad range ", first, "..", last, " (addresses are 0..",
                                     kAddressSpace - 1, ")"));
  }
  for (Addr a = first; a <= last; ++a) {
    if (Present((*proc)->ptes[a].load(std::memory_order_relaxed))) {
      return Precondition(absl::StrCat("address ", a, " is already mapped"));
    }
  }
  for (Addr a = first; a <= last; ++a) {
    absl::StatusOr<PageId> page = alloc_page(0);
    if (!page.ok()) return page.status();
    add_mapping(*page, p, a);
    (*proc)->prot[a] = kReadWrite;
    (*proc)->ptes[a].store(MakePte(*page, true), std::memory_order_release);
  }
  return absl::OkStatus();
}

template <class Sync>
absl::Status BasicMmModel<Sync>::unmap(ProcessId p, Addr addr) {
  absl::StatusOr<LockedProcess> proc = lock_process(p);
  if (!proc.ok()) return proc.status();
  absl::StatusOr<PageId> page = mapped_page(**proc, p, addr);
  if (!page.ok()) return page.status();
  (*proc)->ptes[addr].store(0, std::memory_order_release);
  (*proc)->prot[addr] = kNone;
  drop_mapping(*page, p, addr);
  return absl::OkStatus();
}

template <class Sync>
absl::StatusOr<std::uint64_t> BasicMmModel<Sync>::read(ProcessId p, Addr addr) {
  absl::StatusOr<LockedProcess> proc = lock_process(p);
  if (!proc.ok()) return proc.status();
  absl::StatusOr<PageId> page = mapped_page(**proc, p, addr);
  if (!page.ok()) return page.status();
  return pages_[*page].payload.load(std::memory_order_relaxed);
}

template <class Sync>
absl::Status BasicMmModel<Sync>::write(ProcessId p, Addr addr, std::uint64_t value) {
  absl::StatusOr<LockedProcess> proc = lock_process(p);
  if (!proc.ok()) return proc.status();
  absl::StatusOr<PageId> page = mapped_page(**proc, p, addr);
  if (!page.ok()) return page.status();
  if ((*proc)->prot[addr] != kReadWrite) {
    return Precondition(absl::StrCat("address ", addr, " is mapped read-only"));
  }
  if (!Writable((*proc)->ptes[addr].load(std::memory_order_relaxed))) {
    if (absl::Status s = write_fault(**proc, p, addr); !s.ok()) return s;
  }
  const PageId now = PageOf((*proc)->ptes[addr].load(std::memory_order_relaxed));
  pages_[now].payload.store(value, std::memory_order_relaxed);
  return absl::OkStatus();
}

// A write fault on a present, write-protected entry in a writable mapping; mmap_lock held.
template <class Sync>
absl::Status BasicMmModel<Sync>::write_fault(Process& proc, ProcessId p, Addr addr) {
  const PageId page = PageOf(proc.ptes[addr].load(std::memory_order_relaxed));
  switch (policy_->on_write_fault(facts(page, p))) {
    case FaultDecision::kReuse:
      pages_[page].exclusive.store(true, std::memory_order_release);
      proc.ptes[addr].store(MakePte(page, true), std::memory_order_release);
      event(absl::StrCat("write fault at ", addr, ": reuse page ", page));
      return absl::OkStatus();
    case FaultDecision::kCopy:
      stats_.copies_at_fault.fetch_add(1, std::memory_order_relaxed);
      return copy_for(proc, p, addr, /*writable=*/true);
    case FaultDecision::kReuseAndMoveOthers:
      if (absl::Status s = move_others(page, p); !s.ok()) return s;
      pages_[page].exclusive.store(true, std::memory_order_release);
      proc.ptes[addr].store(MakePte(page, true), std::memory_order_release);
      return absl::OkStatus();
  }
  return absl::InternalError("unknown fault decision");
}

// Gives process p a private copy of the page at addr; mmap_lock held.
template <class Sync>
absl::Status BasicMmModel<Sync>::copy_for(Process& proc, ProcessId p, Addr addr, bool writable) {
  const PageId old_page = PageOf(proc.ptes[addr].load(std::memory_order_relaxed));
  absl::StatusOr<PageId> copy =
      alloc_page(pages_[old_page].payload.load(std::memory_order_relaxed));
  if (!copy.ok()) return copy.status();
  add_mapping(*copy, p, addr);
  proc.ptes[addr].store(MakePte(*copy, writable), std::memory_order_release);
  event(absl::StrCat("copy page ", old_page, " -> page ", *copy, " for address ", addr));
  drop_mapping(old_page, p, addr);
  return absl::OkStatus();
}

// The omniscient policy's move: every other mapping of `page` moves to one fresh copy.
template <class Sync>
absl::Status BasicMmModel<Sync>::move_others(PageId page, ProcessId keeper) {
  std::vector<std::pair<ProcessId, Addr>> others;
  {
    std::lock_guard lock(pages_[page].holders_mu);
    for (const auto& m : pages_[page].holders.mappings) {
      if (m.first != keeper) others.push_back(m);
    }
  }
  if (others.empty()) return absl::OkStatus();
  absl::StatusOr<PageId> copy = alloc_page(pages_[page].payload.load(std::memory_order_relaxed));
  if (!copy.ok()) return copy.status();
  stats_.copies_at_fault.fetch_add(1, std::memory_order_relaxed);
  event(absl::StrCat("copy page ", page, " -> page ", *copy, " for ", others.size(),
                     " other mapping(s)"));
  pages_[*copy].mapcount.store(0, std::memory_order_relaxed);
  for (std::size_t i = 0; i < others.size(); ++i) {
    const auto [q, b] = others[i];
    if (i > 0) pages_[*copy].counter->get();  // the first mapping has the copy's first reference
    pages_[*copy].mapcount.fetch_add(1, std::memory_order_relaxed);
    pages_[*copy].exclusive.store(others.size() == 1, std::memory_order_relaxed);
    add_mapping(*copy, q, b);
    processes_[q].ptes[b].store(MakePte(*copy, false), std::memory_order_release);
    drop_mapping(page, q, b);
  }
  return absl::OkStatus();
}

template <class Sync>
absl::StatusOr<ProcessId> BasicMmModel<Sync>::fork(ProcessId parent) {
  absl::StatusOr<LockedProcess> proc = lock_process(parent);
  if (!proc.ok()) return proc.status();
  Process& from = **proc;
  absl::StatusOr<ProcessId> child = claim_process();
  if (!child.ok()) return child.status();
  // The child needs no lock: it is not alive until the copy is done, and every operation
  // rechecks liveness under the lock it takes.
  Process& to = processes_[*child];
  // Odd while copying: GUP-fast on the parent that overlaps this section retries.
  from.write_protect_seq.fetch_add(1, std::memory_order_seq_cst);
  // Pairs with GUP-fast's fence: either fork sees its pin, or it sees the odd sequence.
  Sync::Fence(std::memory_order_seq_cst);
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

// Fork's page-table copy, page by page as the policy decides; both mmap_locks held.
template <class Sync>
absl::Status BasicMmModel<Sync>::copy_page_table(Process& from, ProcessId parent, Process& to,
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
      event(absl::StrCat("fork: copy page ", page, " -> page ", *copy, " at ", a));
      continue;
    }
    BasicPage<Sync>& shared = pages_[page];
    shared.counter->get();
    shared.mapcount.fetch_add(1, std::memory_order_acq_rel);
    shared.exclusive.store(false, std::memory_order_release);
    add_mapping(page, child, a);
    from.ptes[a].store(MakePte(page, false), std::memory_order_seq_cst);
    to.ptes[a].store(MakePte(page, false), std::memory_order_release);
  }
  return absl::OkStatus();
}

template <class Sync>
absl::Status BasicMmModel<Sync>::protect(ProcessId p, Addr addr, bool writable) {
  absl::StatusOr<LockedProcess> proc = lock_process(p);
  if (!proc.ok()) return proc.status();
  absl::StatusOr<PageId> page = mapped_page(**proc, p, addr);
  if (!page.ok()) return page.status();
  (*proc)->prot[addr] = writable ? kReadWrite : kReadOnly;
  // Re-enabling write leaves the entry write-protected: the next write faults into the policy.
  if (!writable) (*proc)->ptes[addr].store(MakePte(*page, false), std::memory_order_release);
  return absl::OkStatus();
}

template <class Sync>
absl::Status BasicMmModel<Sync>::exit(ProcessId p) {
  {
    absl::StatusOr<LockedProcess> proc = lock_process(p);
    if (!proc.ok()) return proc.status();
    (*proc)->alive.store(false, std::memory_order_release);
    unmap_all(**proc, p);
  }
  release_process(p);
  return absl::OkStatus();
}

// ---- pins and extra references -------------------------------------------------------------

template <class Sync>
absl::StatusOr<std::uint32_t> BasicMmModel<Sync>::alloc_handle(
    std::vector<std::uint32_t>& free_list, std::string_view what) {
  std::lock_guard lock(handles_mu_);
  if (free_list.empty()) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "out of ", std::string(what), " handles (max_handles = ", options_.max_handles, ")"));
  }
  const std::uint32_t id = free_list.back();
  free_list.pop_back();
  handles_touched_ = std::max(handles_touched_, id + 1);
  return id;
}

template <class Sync>
void BasicMmModel<Sync>::free_handle(std::vector<std::uint32_t>& free_list, std::uint32_t id) {
  std::lock_guard lock(handles_mu_);
  free_list.push_back(id);
}

template <class Sync>
absl::StatusOr<typename BasicMmModel<Sync>::Handle*> BasicMmModel<Sync>::live_handle(
    Handle* table, std::uint32_t id, std::string_view what) {
  if (id >= options_.max_handles || !table[id].live.load(std::memory_order_acquire)) {
    return Precondition(absl::StrCat("no live ", std::string(what), " ", id));
  }
  return &table[id];
}

template <class Sync>
PinOutcome BasicMmModel<Sync>::record_pin(PinId id, PageId page, ProcessId p,
                                          std::uint32_t generation, Addr addr, PinKind kind,
                                          bool longterm, bool fast) {
  Handle& h = pins_[id];
  h.page = page;
  h.owner = p;
  h.addr = addr;
  h.kind = kind;
  h.longterm = longterm;
  const ProcessKey owner = MakeProcessKey(p, generation);
  {
    std::lock_guard lock(pages_[page].holders_mu);
    pages_[page].holders.pins.push_back({id, owner, kind});
  }
  h.live.store(true, std::memory_order_release);
  return PinOutcome{PinResult::kPinned, id, fast, generation};
}

template <class Sync>
absl::StatusOr<PinOutcome> BasicMmModel<Sync>::pin(ProcessId p, Addr addr, PinKind kind,
                                                   bool longterm, bool fast) {
  absl::StatusOr<std::uint32_t> id = alloc_handle(free_pins_, "pin");
  if (!id.ok()) return id.status();
  absl::StatusOr<PinOutcome> outcome = PinOutcome{};
  if (fast && !policy_->omniscient()) {
    outcome = pin_fast(*id, p, addr, kind, longterm);
    if (outcome->result != PinResult::kPinned) {
      stats_.fast_pin_fallbacks.fetch_add(1, std::memory_order_relaxed);
    }
  }
  if (outcome->result != PinResult::kPinned) outcome = pin_slow(*id, p, addr, kind, longterm);
  if (!outcome.ok() || outcome->result != PinResult::kPinned) free_handle(free_pins_, *id);
  return outcome;
}

template <class Sync>
bool BasicMmModel<Sync>::fast_pin_allowed(PageId page, ProcessId p, PinKind kind) const {
  return policy_->fast_pin_allowed(facts(page, p), kind);
}

// GUP-fast: no lock. Any doubt falls back to the slow path (an outcome other than kPinned).
template <class Sync>
PinOutcome BasicMmModel<Sync>::pin_fast(PinId id, ProcessId p, Addr addr, PinKind kind,
                                        bool longterm) {
  if (p >= options_.max_processes || addr >= kAddressSpace) return PinOutcome{};
  Process& proc = processes_[p];
  const std::uint32_t generation = proc.generation.load(std::memory_order_seq_cst);
  if (!proc.alive.load(std::memory_order_acquire)) return PinOutcome{};
  // Like mm_set_has_pinned_flag(): set before the pin can land, on the process the walk is
  // about (a recycled slot is caught by the generation recheck), so that a fork racing with
  // this walk sees the flag whenever it could miss the pin itself.
  proc.has_pinned.store(true, std::memory_order_seq_cst);
  const std::uint32_t seq = proc.write_protect_seq.load(std::memory_order_seq_cst);
  if (options_.check_write_protect_seq && (seq & 1) != 0) return PinOutcome{};
  const std::uint64_t pte = proc.ptes[addr].load(std::memory_order_acquire);
  if (!Present(pte) || (kind == PinKind::kWrite && !Writable(pte))) return PinOutcome{};
  const PageId page = PageOf(pte);
  if (!fast_pin_allowed(page, p, kind)) return PinOutcome{};
  if (pages_[page].counter->try_pin(kind) != PinResult::kPinned) return PinOutcome{};
  Sync::Fence(std::memory_order_seq_cst);  // the kernel's smp_mb() after the pin
  const bool seq_moved = options_.check_write_protect_seq &&
                         proc.write_protect_seq.load(std::memory_order_seq_cst) != seq;
  const bool recycled = proc.generation.load(std::memory_order_seq_cst) != generation ||
                        !proc.alive.load(std::memory_order_seq_cst);
  if (seq_moved || recycled || proc.ptes[addr].load(std::memory_order_seq_cst) != pte) {
    release(page, pages_[page].counter->unpin(kind));
    return PinOutcome{};
  }
  stats_.fast_pins.fetch_add(1, std::memory_order_relaxed);
  // The generation the recheck validated: the slot may change hands right after it, and the pin
  // landed in the process that held it then.
  return record_pin(id, page, p, generation, addr, kind, longterm, /*fast=*/true);
}

template <class Sync>
absl::StatusOr<PinOutcome> BasicMmModel<Sync>::pin_slow(PinId id, ProcessId p, Addr addr,
                                                        PinKind kind, bool longterm) {
  absl::StatusOr<LockedProcess> proc = lock_process(p);
  if (!proc.ok()) return proc.status();
  (*proc)->has_pinned.store(true, std::memory_order_seq_cst);
  absl::StatusOr<PageId> page = mapped_page(**proc, p, addr);
  if (!page.ok()) return page.status();
  if (kind == PinKind::kWrite) {
    if ((*proc)->prot[addr] != kReadWrite) {
      return Precondition(absl::StrCat("write pin on read-only address ", addr));
    }
    // FOLL_WRITE breaks COW first, through the policy's write-fault rule.
    if (!Writable((*proc)->ptes[addr].load(std::memory_order_relaxed))) {
      if (absl::Status s = write_fault(**proc, p, addr); !s.ok()) return s;
    }
  } else {
    switch (policy_->before_read_pin(facts(*page, p))) {
      case ReadPinPrep::kNone:
        break;
      case ReadPinPrep::kMarkExclusive:
        pages_[*page].exclusive.store(true, std::memory_order_release);
        break;
      case ReadPinPrep::kUnshare:
        stats_.unshares.fetch_add(1, std::memory_order_relaxed);
        if (absl::Status s = copy_for(**proc, p, addr, /*writable=*/false); !s.ok()) return s;
        break;
    }
  }
  const PageId target = PageOf((*proc)->ptes[addr].load(std::memory_order_relaxed));
  const PinResult result = pages_[target].counter->try_pin(kind);
  if (result == PinResult::kFull) {
    stats_.pins_refused.fetch_add(1, std::memory_order_relaxed);
    event(absl::StrCat("pin refused: page ", target, " has no room (-EAGAIN)"));
    return PinOutcome{PinResult::kFull, 0, false};
  }
  if (result == PinResult::kDead) {
    return absl::InternalError(absl::StrCat("mapped page ", target, " is dead"));
  }
  // Under the process's lock: the slot cannot change hands before this read.
  const std::uint32_t generation = (*proc)->generation.load(std::memory_order_acquire);
  return record_pin(id, target, p, generation, addr, kind, longterm, /*fast=*/false);
}

template <class Sync>
absl::StatusOr<std::uint64_t> BasicMmModel<Sync>::read_pin(PinId pin) {
  absl::StatusOr<Handle*> h = live_handle(pins_.get(), pin, "pin");
  if (!h.ok()) return h.status();
  return pages_[(*h)->page].payload.load(std::memory_order_relaxed);
}

template <class Sync>
absl::Status BasicMmModel<Sync>::write_pin(PinId pin, std::uint64_t value) {
  absl::StatusOr<Handle*> h = live_handle(pins_.get(), pin, "pin");
  if (!h.ok()) return h.status();
  if ((*h)->kind != PinKind::kWrite) return Precondition("write through a read pin");
  pages_[(*h)->page].payload.store(value, std::memory_order_relaxed);
  return absl::OkStatus();
}

// Takes a live handle out of use, exactly once even when two threads race to release it.
template <class Sync>
absl::StatusOr<typename BasicMmModel<Sync>::Handle*> BasicMmModel<Sync>::release_handle(
    Handle* table, std::uint32_t id, std::string_view what) {
  absl::StatusOr<Handle*> h = live_handle(table, id, what);
  if (!h.ok()) return h.status();
  if (!(*h)->live.exchange(false, std::memory_order_acq_rel)) {
    return Precondition(absl::StrCat(std::string(what), " ", id, " was already released"));
  }
  return h;
}

template <class Sync>
absl::Status BasicMmModel<Sync>::unpin(PinId pin) {
  absl::StatusOr<Handle*> h = release_handle(pins_.get(), pin, "pin");
  if (!h.ok()) return h.status();
  const PageId page = (*h)->page;
  {
    std::lock_guard lock(pages_[page].holders_mu);
    auto& pins = pages_[page].holders.pins;
    auto it =
        std::find_if(pins.begin(), pins.end(), [&](const PinHolder& ph) { return ph.pin == pin; });
    if (it != pins.end()) pins.erase(it);
  }
  const PinKind kind = (*h)->kind;
  free_handle(free_pins_, pin);
  release(page, pages_[page].counter->unpin(kind));
  return absl::OkStatus();
}

template <class Sync>
absl::StatusOr<RefId> BasicMmModel<Sync>::take_ref(ProcessId p, Addr addr) {
  absl::StatusOr<LockedProcess> proc = lock_process(p);
  if (!proc.ok()) return proc.status();
  absl::StatusOr<PageId> page = mapped_page(**proc, p, addr);
  if (!page.ok()) return page.status();
  absl::StatusOr<std::uint32_t> id = alloc_handle(free_refs_, "reference");
  if (!id.ok()) return id.status();
  if (pages_[*page].counter->get() != GetResult::kOk) {
    free_handle(free_refs_, *id);
    return absl::ResourceExhaustedError(absl::StrCat("page ", *page, " refused a reference"));
  }
  Handle& h = refs_[*id];
  h.page = *page;
  h.owner = p;
  h.addr = addr;
  {
    std::lock_guard holders(pages_[*page].holders_mu);
    ++pages_[*page].holders.extra_refs;
  }
  h.live.store(true, std::memory_order_release);
  return *id;
}

template <class Sync>
absl::Status BasicMmModel<Sync>::drop_ref(RefId ref) {
  absl::StatusOr<Handle*> h = release_handle(refs_.get(), ref, "reference");
  if (!h.ok()) return h.status();
  const PageId page = (*h)->page;
  {
    std::lock_guard lock(pages_[page].holders_mu);
    --pages_[page].holders.extra_refs;
  }
  free_handle(free_refs_, ref);
  release(page, pages_[page].counter->put());
  return absl::OkStatus();
}

// ---- introspection ---------------------------------------------------------------------------

template <class Sync>
PageId BasicMmModel<Sync>::page_at(ProcessId p, Addr addr) const {
  if (p >= options_.max_processes || addr >= kAddressSpace) return kNoPage;
  const std::uint64_t pte = processes_[p].ptes[addr].load(std::memory_order_acquire);
  return Present(pte) ? PageOf(pte) : kNoPage;
}

template <class Sync>
bool BasicMmModel<Sync>::pte_writable(ProcessId p, Addr addr) const {
  if (p >= options_.max_processes || addr >= kAddressSpace) return false;
  return Writable(processes_[p].ptes[addr].load(std::memory_order_acquire));
}

template <class Sync>
std::uint64_t BasicMmModel<Sync>::payload(PageId page) const {
  return pages_[page].payload.load(std::memory_order_relaxed);
}

template <class Sync>
bool BasicMmModel<Sync>::in_use(PageId page) const {
  return page < options_.max_pages && pages_[page].in_use.load(std::memory_order_acquire);
}

template <class Sync>
PageHolders BasicMmModel<Sync>::holders(PageId page) const {
  std::lock_guard lock(pages_[page].holders_mu);
  return pages_[page].holders;
}

template <class Sync>
RefcountState BasicMmModel<Sync>::counter_state(PageId page) const {
  return pages_[page].counter->state();
}

template <class Sync>
std::vector<PageId> BasicMmModel<Sync>::pages_in_use() const {
  std::vector<PageId> out;
  for_each_page_in_use([&out](PageId page) { out.push_back(page); });
  return out;
}

template <class Sync>
int BasicMmModel<Sync>::mapcount(PageId page) const {
  return pages_[page].mapcount.load(std::memory_order_acquire);
}

template <class Sync>
bool BasicMmModel<Sync>::exclusive(PageId page) const {
  return pages_[page].exclusive.load(std::memory_order_acquire);
}

template <class Sync>
PageId BasicMmModel<Sync>::pin_page(PinId pin) const {
  return pin < options_.max_handles ? pins_[pin].page : kNoPage;
}

template <class Sync>
bool BasicMmModel<Sync>::pin_live(PinId pin) const {
  return pin < options_.max_handles && pins_[pin].live.load(std::memory_order_acquire);
}

template <class Sync>
bool BasicMmModel<Sync>::process_alive(ProcessId p) const {
  return p < options_.max_processes && processes_[p].alive.load(std::memory_order_acquire);
}

template <class Sync>
std::uint32_t BasicMmModel<Sync>::process_generation(ProcessId p) const {
  return p < options_.max_processes ? processes_[p].generation.load(std::memory_order_acquire) : 0;
}

template <class Sync>
MmStats BasicMmModel<Sync>::stats() const {
  MmStats s;
  s.copies_at_fork = stats_.copies_at_fork.load(std::memory_order_relaxed);
  s.copies_at_fault = stats_.copies_at_fault.load(std::memory_order_relaxed);
  s.unshares = stats_.unshares.load(std::memory_order_relaxed);
  s.pins_refused = stats_.pins_refused.load(std::memory_order_relaxed);
  s.false_maybe_pinned = policy_counters_.false_maybe_pinned.load(std::memory_order_relaxed);
  s.fast_pins = stats_.fast_pins.load(std::memory_order_relaxed);
  s.fast_pin_fallbacks = stats_.fast_pin_fallbacks.load(std::memory_order_relaxed);
  s.pages_allocated = stats_.pages_allocated.load(std::memory_order_relaxed);
  s.pages_freed = stats_.pages_freed.load(std::memory_order_relaxed);
  return s;
}

}  // namespace pinsplit::mm
