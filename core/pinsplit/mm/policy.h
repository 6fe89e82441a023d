// SPDX-License-Identifier: MIT
// Policy: the decisions fork, write faults and GUP make about one anonymous page.
//
// A policy sees a page through PageFacts: its counter (which answers exactly or "maybe",
// according to its Capabilities), the mapcount and AnonExclusive flag the kernel keeps, and
// whether the mm ever pinned. Only the omniscient `ideal` policy reads the holders, the truth.
//
// The model calls a policy under the faulting (or forking, or pinning) process's lock; decisions
// must be made from the facts given, so that the same policy runs in scripts, fuzzers and storms.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "pinsplit/mm/page.h"

namespace pinsplit::mm {

enum class ForkDecision : std::uint8_t { kShare, kCopy };

// kReuseAndMoveOthers: the faulting process keeps the page and every other mapping moves to a
// fresh copy; only the omniscient policy may answer it (it needs every mapping's page table).
enum class FaultDecision : std::uint8_t { kReuse, kCopy, kReuseAndMoveOthers };

// What to do before a read pin: nothing, unshare (copy, PTE left read-only), or mark the page
// exclusive in place (the kernel's unshare of a page nobody else holds).
enum class ReadPinPrep : std::uint8_t { kNone, kUnshare, kMarkExclusive };

// Counts the policy's answers that the truth contradicts.
struct PolicyCounters {
  std::atomic<std::uint64_t> false_maybe_pinned{0};
};

// How PageFacts reads a BasicPage<Sync> without knowing Sync: one table per instantiation.
struct PageReader {
  int (*mapcount)(const void* page);
  bool (*exclusive)(const void* page);
  void (*with_holders)(const void* page, absl::FunctionRef<void(const PageHolders&)> f);
  bool (*has_pin_holders)(const void* page);
};

template <class Sync>
inline constexpr PageReader kPageReader = {
    [](const void* p) {
      return static_cast<const BasicPage<Sync>*>(p)->mapcount.load(std::memory_order_acquire);
    },
    [](const void* p) {
      return static_cast<const BasicPage<Sync>*>(p)->exclusive.load(std::memory_order_acquire);
    },
    [](const void* p, absl::FunctionRef<void(const PageHolders&)> f) {
      const auto* page = static_cast<const BasicPage<Sync>*>(p);
      std::lock_guard lock(page->holders_mu);
      f(page->holders);
    },
    [](const void* p) {
      const auto* page = static_cast<const BasicPage<Sync>*>(p);
      std::lock_guard lock(page->holders_mu);
      return !page->holders.pins.empty();
    },
};

class PageFacts {
 public:
  template <class Sync>
  PageFacts(const BasicPage<Sync>& page, ProcessId actor, ProcessKey actor_key, bool mm_has_pinned,
            PolicyCounters& counters)
      : counter_(*page.counter),
        page_(&page),
        reader_(kPageReader<Sync>),
        actor_(actor),
        actor_key_(actor_key),
        mm_has_pinned_(mm_has_pinned),
        counters_(counters) {}

  const AnyRefcount& counter() const { return counter_; }
  int mapcount() const { return reader_.mapcount(page_); }
  bool exclusive() const { return reader_.exclusive(page_); }
  bool mm_has_pinned() const { return mm_has_pinned_; }
  ProcessId actor() const { return actor_; }
  ProcessKey actor_key() const { return actor_key_; }  // the actor's slot and generation

  // The counter's "maybe pinned" answer; a yes the truth contradicts is counted.
  bool maybe_pinned() const;
  // The kernel's page_count(): ordinary references plus pins as the counter stores them.
  std::uint32_t page_count() const;

  // f(const PageHolders&), the truth, under the page's holder lock, without copying it; for the
  // omniscient policy only. Returns what f returns.
  template <class F>
  std::invoke_result_t<F, const PageHolders&> with_holders(F&& f) const {
    std::optional<std::invoke_result_t<F, const PageHolders&>> result;
    reader_.with_holders(page_, [&](const PageHolders& holders) { result.emplace(f(holders)); });
    return *std::move(result);
  }

 private:
  const AnyRefcount& counter_;  // NOLINT: a view, never outlives the call it is made for
  const void* page_;            // a BasicPage<Sync>, read through reader_
  const PageReader& reader_;    // NOLINT
  ProcessId actor_;
  ProcessKey actor_key_;
  bool mm_has_pinned_;
  PolicyCounters& counters_;
};

class Policy {
 public:
  virtual ~Policy() = default;

  virtual std::string_view name() const = 0;
  // The counter this policy runs on unless --impl says otherwise.
  virtual std::string_view default_counter() const = 0;
  // Whether the policy can decide with a counter of these capabilities.
  virtual bool accepts(const Capabilities& caps) const { return true; }
  // Whether the policy needs every process's page table at a fault (sequential runs only).
  virtual bool omniscient() const { return false; }

  virtual ForkDecision on_fork(const PageFacts& page) const = 0;
  // A write fault on a present, write-protected page in a writable mapping.
  virtual FaultDecision on_write_fault(const PageFacts& page) const = 0;
  virtual ReadPinPrep before_read_pin(const PageFacts& page) const = 0;
  // Whether a lockless GUP-fast pin may be taken on this page without the slow path's checks.
  virtual bool fast_pin_allowed(const PageFacts& page, PinKind kind) const = 0;
  // The truth oracle's invariants (violation_kind.h) this policy is known to break: its
  // documented bugs, named in its header. Empty for a policy that must never break any; a
  // violation of any other kind is a new bug (the fuzz verdict calls it unexpected).
  virtual std::span<const std::string_view> known_violations() const { return {}; }
};

// "mapcount", "refcount", "anon-exclusive", "split", "ideal".
std::vector<std::string> KnownPolicies();
absl::StatusOr<std::unique_ptr<Policy>> MakePolicy(std::string_view name);

}  // namespace pinsplit::mm
