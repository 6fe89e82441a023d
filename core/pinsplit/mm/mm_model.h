// SPDX-License-Identifier: MIT
// MmModel: anonymous memory with fork, COW faults and GUP pins, deciding through a Policy and
// counting through a counter from core/.
//
// BasicMmModel<Sync> takes its synchronisation as a traits type (std_sync.h): MmModel is the
// production instantiation on std::atomic and std::mutex (mm_model.cc); testing/ instantiates
// the same code on the deterministic scheduler (testing/deterministic_mm_model.h) so that the
// interleaving explorer can run GUP-fast against fork, unmap and faults step by step. Below,
// "atomic" and "mutex" mean Sync's.
//
// Processes own page tables of kAddressSpace pages (addresses 0 .. 63). Every mapping holds one
// ordinary reference on its page, every extra reference (LRU, swap cache, page cache) one more,
// and every pin one pin of its kind. A page is freed exactly when its counter reports the last
// drop, whoever drops it: an unmap, an unpin after exit, an extra reference's release.
//
// Thread safety, the way the kernel does it:
//   - each process has an mmap_lock (std::mutex) held by every address-space change: map,
//     unmap, write faults, mprotect, fork, exit and the GUP slow path; fork fills the child
//     before it is alive, so it takes no second process lock (no lock order to get wrong);
//   - page-table entries are atomic words, so GUP-fast walks them without the lock; fork
//     brackets its copy with the parent's write_protect_seq (odd while forking), and GUP-fast
//     reads it before the walk and rechecks it, and the entry, after its pin (a seq_cst fence
//     between, like the kernel's smp_mb()), unpinning and falling back to the slow path when
//     either changed. MmOptions::check_write_protect_seq = false turns the recheck off, for the
//     storm that must catch the race that follows;
//   - decisions about a page shared between processes read its counter, mapcount and
//     AnonExclusive flag with separate atomic loads, as the kernel does; payloads are atomic
//     words (a model of user memory, which real threads race on too);
//   - a process slot is reused after exit; its generation, bumped at each reuse, is what
//     GUP-fast rechecks (the kernel holds an mm reference instead) and what pins record;
//   - pages live in a fixed arena and are recycled, never deallocated.
// The omniscient `ideal` policy rewrites other processes' page tables and is for sequential
// use only.
//
// Errors (an address that is not mapped, a write to a read-only mapping, an unknown handle) are
// returned as FailedPrecondition and change nothing, except that a pin attempt marks its process
// as having pinned before it looks (as the kernel's GUP does), which later forks may see.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "pinsplit/mm/page.h"
#include "pinsplit/mm/policy.h"
#include "pinsplit/mm/std_sync.h"

namespace pinsplit::mm {

inline constexpr Addr kAddressSpace = 64;

struct MmOptions {
  std::string policy = "split";
  std::string impl;  // the counter; empty: the policy's default
  std::uint32_t max_pages = 4096;
  std::uint32_t max_processes = 64;
  std::uint32_t max_handles = 4096;  // pins and extra references, each
  bool check_write_protect_seq = true;
};

struct MmStats {
  std::uint64_t copies_at_fork = 0;
  std::uint64_t copies_at_fault = 0;
  std::uint64_t unshares = 0;
  std::uint64_t pins_refused = 0;
  std::uint64_t false_maybe_pinned = 0;
  std::uint64_t fast_pins = 0;
  std::uint64_t fast_pin_fallbacks = 0;
  std::uint64_t pages_allocated = 0;
  std::uint64_t pages_freed = 0;
};

struct PinOutcome {
  PinResult result = PinResult::kDead;
  PinId id = 0;       // valid when result == kPinned
  bool fast = false;  // taken by GUP-fast
  // When kPinned: the generation of the process the pin landed in. A slot reused while the
  // call ran (its process exited, a fork claimed it) has another: process_generation().
  std::uint32_t generation = 0;
};

template <class Sync>
class BasicMmModel {
 public:
  static absl::StatusOr<std::unique_ptr<BasicMmModel>> Create(const MmOptions& options);
  ~BasicMmModel();

  absl::StatusOr<ProcessId> spawn();
  absl::Status map(ProcessId p, Addr first, Addr last);
  absl::Status unmap(ProcessId p, Addr addr);
  absl::StatusOr<std::uint64_t> read(ProcessId p, Addr addr);
  absl::Status write(ProcessId p, Addr addr, std::uint64_t value);
  absl::StatusOr<ProcessId> fork(ProcessId parent);
  absl::Status protect(ProcessId p, Addr addr, bool writable);
  // GUP with FOLL_PIN. `fast` tries the lockless path first. A full pin field is not an error:
  // the outcome says kFull (the seed's -EAGAIN).
  absl::StatusOr<PinOutcome> pin(ProcessId p, Addr addr, PinKind kind, bool longterm, bool fast);
  absl::StatusOr<std::uint64_t> read_pin(PinId pin);
  absl::Status write_pin(PinId pin, std::uint64_t value);
  absl::Status unpin(PinId pin);
  // An extra ordinary reference on the page mapped at addr; kFull when the counter refuses it.
  absl::StatusOr<RefId> take_ref(ProcessId p, Addr addr);
  absl::Status drop_ref(RefId ref);
  absl::Status exit(ProcessId p);

  // Back to the state Create() left: no process, page, pin or reference, the same free-list
  // order, generations and statistics at zero, so that what follows runs exactly as on a new
  // model. For sequential users that run many short scripts (the mm_ops fuzz target): it costs
  // the pages used since, not the arena. Not thread-safe: nothing may run concurrently.
  void reset();

  // Introspection for the oracle, tests and storms.
  const Policy& policy() const { return *policy_; }
  Capabilities capabilities() const { return capabilities_; }
  std::string_view counter_name() const { return counter_name_; }
  PageId page_at(ProcessId p, Addr addr) const;  // kNoPage when nothing is mapped there
  bool pte_writable(ProcessId p, Addr addr) const;
  std::uint64_t payload(PageId page) const;
  bool in_use(PageId page) const;
  PageHolders holders(PageId page) const;
  // f(const PageHolders&) under the page's holders lock: a look at the truth without a copy.
  template <class F>
  decltype(auto) with_holders(PageId page, F&& f) const {
    std::lock_guard lock(pages_[page].holders_mu);
    return f(pages_[page].holders);
  }
  RefcountState counter_state(PageId page) const;
  std::vector<PageId> pages_in_use() const;
  // f(PageId) for each page in use, in id order, without building the list.
  template <class F>
  void for_each_page_in_use(F&& f) const {
    const PageId touched = pages_touched_.load(std::memory_order_acquire);
    for (PageId page = 0; page < touched; ++page) {
      if (pages_[page].in_use.load(std::memory_order_acquire)) f(page);
    }
  }
  PageId pin_page(PinId pin) const;
  int mapcount(PageId page) const;
  bool exclusive(PageId page) const;  // PageAnonExclusive, as the kernel's kpageflags shows it
  bool pin_live(PinId pin) const;
  bool process_alive(ProcessId p) const;
  std::uint32_t process_generation(ProcessId p) const;  // bumped each time the slot is reused
  MmStats stats() const;

  // Where the model narrates its decisions ("copy at fault: page 3 -> page 7"); sequential use.
  void set_event_log(std::vector<std::string>* log) { events_ = log; }

 private:
  struct Process;
  struct LockedProcess;
  struct Handle;  // a pin or an extra reference

  explicit BasicMmModel(const MmOptions& options);

  absl::StatusOr<Process*> live_process(ProcessId p);
  absl::StatusOr<LockedProcess> lock_process(ProcessId p);
  absl::Status still_alive(const Process& proc, ProcessId p) const;
  absl::StatusOr<PageId> mapped_page(const Process& proc, ProcessId p, Addr addr) const;
  absl::StatusOr<PageId> alloc_page(std::uint64_t payload);
  void free_page(PageId page);
  void fill_free_lists();
  void add_mapping(PageId page, ProcessId p, Addr addr);
  void drop_mapping(PageId page, ProcessId p, Addr addr);
  void release(PageId page, PutResult result);
  PageFacts facts(PageId page, ProcessId actor) const;
  absl::Status write_fault(Process& proc, ProcessId p, Addr addr);
  absl::Status copy_for(Process& proc, ProcessId p, Addr addr, bool writable);
  absl::Status move_others(PageId page, ProcessId keeper);
  PinOutcome pin_fast(PinId id, ProcessId p, Addr addr, PinKind kind, bool longterm);
  // Whether GUP-fast may pin `page` for `p` without a lock: the policy's call. One member, so a
  // broken model in testing/ can replace this decision alone.
  bool fast_pin_allowed(PageId page, ProcessId p, PinKind kind) const;
  absl::StatusOr<PinOutcome> pin_slow(PinId id, ProcessId p, Addr addr, PinKind kind,
                                      bool longterm);
  PinOutcome record_pin(PinId id, PageId page, ProcessId p, std::uint32_t generation, Addr addr,
                        PinKind kind, bool longterm, bool fast);
  absl::StatusOr<ProcessId> claim_process();
  void release_process(ProcessId p);
  void unmap_all(Process& proc, ProcessId p);
  absl::Status copy_page_table(Process& from, ProcessId parent, Process& to, ProcessId child);
  absl::StatusOr<Handle*> live_handle(Handle* table, std::uint32_t id, std::string_view what);
  absl::StatusOr<Handle*> release_handle(Handle* table, std::uint32_t id, std::string_view what);
  absl::StatusOr<std::uint32_t> alloc_handle(std::vector<std::uint32_t>& free_list,
                                             std::string_view what);
  void free_handle(std::vector<std::uint32_t>& free_list, std::uint32_t id);
  void event(std::string text);

  MmOptions options_;
  std::unique_ptr<Policy> policy_;
  Capabilities capabilities_{};
  std::string counter_name_;
  mutable PolicyCounters policy_counters_;

  std::unique_ptr<BasicPage<Sync>[]> pages_;
  std::mutex arena_mu_;  // guards free_pages_
  std::vector<PageId> free_pages_;
  std::string impl_;                      // the counter scheme, for pages made on first use
  std::atomic<PageId> pages_touched_{0};  // pages [0, this) were ever allocated

  std::unique_ptr<Process[]> processes_;
  typename Sync::Mutex processes_mu_;  // guards slot allocation

  std::mutex handles_mu_;              // guards both free lists and handles_touched_
  std::uint32_t handles_touched_ = 0;  // pin and reference ids [0, this) were ever handed out
  std::unique_ptr<Handle[]> pins_;
  std::unique_ptr<Handle[]> refs_;
  std::vector<std::uint32_t> free_pins_, free_refs_;
  std::vector<std::uint32_t> initial_free_pages_, initial_free_handles_;  // for reset()

  struct AtomicStats {
    std::atomic<std::uint64_t> copies_at_fork{0}, copies_at_fault{0}, unshares{0}, pins_refused{0},
        fast_pins{0}, fast_pin_fallbacks{0}, pages_allocated{0}, pages_freed{0};
  };
  AtomicStats stats_;
  std::vector<std::string>* events_ = nullptr;
};

extern template class BasicMmModel<StdSync>;
using MmModel = BasicMmModel<StdSync>;

}  // namespace pinsplit::mm
