// SPDX-License-Identifier: MIT
#include "mm_storm.h"

#include <algorithm>
#include <atomic>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "broken_mm_models.h"
#include "pinsplit/misuse.h"
#include "pinsplit/mm/mm_model.h"

namespace pinsplit::stress {
namespace {

using mm::Addr;
using mm::PageId;
using mm::PinId;
using mm::ProcessId;
using mm::RefId;

constexpr Addr kPages = 8;  // addresses each process maps: few, so pages are often shared
constexpr std::size_t kMaxLiveProcesses = 24;
constexpr std::uint32_t kMaxProcesses = 64;
constexpr std::uint32_t kNoIncarnation = 0;

std::uint64_t Tag(std::uint32_t incarnation, std::uint64_t tick) {
  return (std::uint64_t{incarnation} << 40) | (tick & ((std::uint64_t{1} << 40) - 1));
}
std::uint32_t WriterOf(std::uint64_t value) { return static_cast<std::uint32_t>(value >> 40); }
std::uint64_t TickOf(std::uint64_t value) { return value & ((std::uint64_t{1} << 40) - 1); }

// Who descends from whom, and when each fork ended.
class Lineage {
 public:
  std::uint32_t born(std::uint32_t parent, std::uint64_t fork_end) {
    std::lock_guard lock(mu_);
    entries_.push_back({parent, fork_end});
    return static_cast<std::uint32_t>(entries_.size() - 1);
  }
  // May `reader` see `value`? Its own writes, or an ancestor's from before their split.
  bool may_see(std::uint32_t reader, std::uint64_t value) const {
    if (value == 0) return true;
    const std::uint32_t writer = WriterOf(value);
    std::lock_guard lock(mu_);
    std::uint64_t bound = UINT64_MAX;
    for (std::uint32_t p = reader; p != kNoIncarnation; p = entries_[p].parent) {
      if (p == writer) return TickOf(value) < bound;
      bound = std::min(bound, entries_[p].fork_end);
    }
    return false;
  }

 private:
  struct Entry {
    std::uint32_t parent;
    std::uint64_t fork_end;
  };
  mutable std::mutex mu_;
  std::vector<Entry> entries_{{kNoIncarnation, 0}};  // incarnation 0 is "nobody"
};

struct OwnPin {
  PinId id;
  Addr addr;
  bool longterm;
};

struct ForeignPin {
  PinId id;
  std::uint32_t owner;  // the incarnation the pinned page belonged to
  PinKind kind;
};

struct Task {
  ProcessId pid;
  std::uint32_t incarnation;
  std::vector<OwnPin> pins;
};

// Model: mm::MmModel, or one of its deliberately broken builds (broken_mm_models.h).
template <class Model>
class MmStorm {
 public:
  MmStorm(const StormOptions& options, std::unique_ptr<Model> model)
      : options_(options),
        control_(options),
        model_(std::move(model)),
        inboxes_(static_cast<std::size_t>(options.threads)) {
    for (auto& inc : incarnation_) inc.store(kNoIncarnation);
    exact_pins_policy_ =
        model_->policy().name() == "split" || model_->policy().name() == "anon-exclusive";
  }

  StormResult Run() {
    const std::uint64_t misuse_before = misuse_total();
    RunStormThreads(options_, control_, [this](int t) { Worker(t); });
    for (Inbox& inbox : inboxes_) {  // children handed over after their new owner stopped
      for (Task& task : inbox.tasks) Retire(task);
    }
    CheckQuiescent(misuse_total() - misuse_before);
    StormResult result = control_.result();
    const mm::MmStats s = model_->stats();
    result.counters["copies_at_fork"] = s.copies_at_fork;
    result.counters["copies_at_fault"] = s.copies_at_fault;
    result.counters["unshares"] = s.unshares;
    result.counters["fast_pins"] = s.fast_pins;
    result.counters["fast_pin_fallbacks"] = s.fast_pin_fallbacks;
    result.counters["pins_refused"] = s.pins_refused;
    result.counters["forks"] = forks_.load();
    return result;
  }

 private:
  struct Inbox {
    std::mutex mu;
    std::vector<Task> tasks;
  };

  struct ThreadState {
    std::vector<Task> tasks;
    std::vector<ForeignPin> foreign;
    std::vector<RefId> refs;
  };

  std::uint64_t Tick() { return clock_.fetch_add(1, std::memory_order_relaxed) + 1; }

  void Worker(int t) {
    Rng rng(options_.seed * 0xD1342543DE82EF95ull + static_cast<std::uint64_t>(t));
    ThreadState me;
    std::uint64_t done = 0;
    while (!control_.done(done)) {
      {
        std::lock_guard lock(inboxes_[static_cast<std::size_t>(t)].mu);
        auto& in = inboxes_[static_cast<std::size_t>(t)].tasks;
        for (Task& task : in) me.tasks.push_back(std::move(task));
        in.clear();
      }
      if (me.tasks.empty()) Spawn(me);
      for (std::uint64_t i = 0; i < kMmStormBurst; ++i, ++done) Step(t, rng, me);
      control_.count_ops(kMmStormBurst);
    }
    for (Task& task : me.tasks) Retire(task);
    for (const ForeignPin& pin : me.foreign) (void)model_->unpin(pin.id);
    for (RefId ref : me.refs) (void)model_->drop_ref(ref);
  }

  void Spawn(ThreadState& me) {
    absl::StatusOr<ProcessId> p = model_->spawn();
    if (!p.ok()) return;
    const std::uint32_t inc = lineage_.born(kNoIncarnation, 0);
    incarnation_[*p].store(inc, std::memory_order_release);
    if (!model_->map(*p, 0, kPages - 1).ok()) {
      (void)model_->exit(*p);
      return;
    }
    live_.fetch_add(1);
    me.tasks.push_back(Task{*p, inc, {}});
  }

  void Retire(Task& task) {
    for (const OwnPin& pin : task.pins) (void)model_->unpin(pin.id);
    task.pins.clear();
    incarnation_[task.pid].store(kNoIncarnation, std::memory_order_release);
    (void)model_->exit(task.pid);
    live_.fetch_sub(1);
  }

  void Step(int t, Rng& rng, ThreadState& me) {
    const std::string& op = options_.mix.pick(rng.below(options_.mix.total()));
    if (op == "foreign_pin") return ForeignPinOp(rng, me);
    if (op == "foreign_io") return ForeignIo(rng, me);
    if (op == "ref") return RefOp(rng, me);
    if (me.tasks.empty()) return;
    const std::size_t which = rng.below(me.tasks.size());
    Task& task = me.tasks[which];
    const Addr addr = static_cast<Addr>(rng.below(kPages));
    if (op == "write") {
      const std::uint64_t value = Tag(task.incarnation, Tick());
      if (model_->write(task.pid, addr, value).ok()) CheckOwnPins(task, addr);
    } else if (op == "read") {
      absl::StatusOr<std::uint64_t> v = model_->read(task.pid, addr);
      if (v.ok() && !lineage_.may_see(task.incarnation, *v)) {
        control_.violation(absl::StrCat("isolation: process ", task.incarnation, " read ", *v,
                                        " written by ", WriterOf(*v), " at ", addr));
      }
    } else if (op == "fork") {
      Fork(rng, task);
    } else if (op == "exit") {
      if (me.tasks.size() > 1 || live_.load() > 1) {
        Retire(task);
        me.tasks.erase(me.tasks.begin() + static_cast<long>(which));
      }
    } else if (op == "unmap_map") {
      UnpinOwnAt(task, addr);  // a pin's promises end with its process's mapping
      if (model_->unmap(task.pid, addr).ok()) {
        (void)model_->map(task.pid, addr, addr);
      }
    } else if (op == "protect") {
      (void)model_->protect(task.pid, addr, false);
      (void)model_->protect(task.pid, addr, true);
    } else if (op == "pin") {
      if (task.pins.size() >= 4) {
        (void)model_->unpin(task.pins.front().id);
        task.pins.erase(task.pins.begin());
        return;
      }
      const bool longterm = rng.below(2) == 0;
      const PinKind kind = rng.below(2) == 0 ? PinKind::kRead : PinKind::kWrite;
      absl::StatusOr<mm::PinOutcome> out =
          model_->pin(task.pid, addr, kind, longterm, /*fast=*/rng.below(2) == 0);
      if (out.ok() && out->result == PinResult::kPinned) {
        task.pins.push_back({out->id, addr, longterm});
      }
    }
  }

  // A long-term pin the process holds on its own page stays on the page the process maps, so
  // it sees the write just made. Under the policies the storm checks, nothing another thread
  // does (a foreign pin's unshare, a fork) moves a pinned page away from its pinner.
  void CheckOwnPins(const Task& task, Addr addr) {
    for (const OwnPin& pin : task.pins) {
      if (pin.addr != addr || !pin.longterm) continue;
      const PageId pinned = model_->pin_page(pin.id);
      const PageId mapped = model_->page_at(task.pid, addr);
      if (pinned != mapped) {
        control_.violation(absl::StrCat("long-term pin coherence: process ", task.incarnation,
                                        " wrote at ", addr, " to page ", mapped,
                                        " but its long-term pin holds page ", pinned));
      }
    }
  }

  void UnpinOwnAt(Task& task, Addr addr) {
    auto keep = std::remove_if(task.pins.begin(), task.pins.end(), [&](const OwnPin& pin) {
      if (pin.addr != addr) return false;
      (void)model_->unpin(pin.id);
      return true;
    });
    task.pins.erase(keep, task.pins.end());
  }

  void Fork(Rng& rng, Task& task) {
    if (live_.load() >= static_cast<int>(kMaxLiveProcesses)) return;
    absl::StatusOr<ProcessId> child = model_->fork(task.pid);
    if (!child.ok()) return;
    const std::uint64_t fork_end = Tick();
    forks_.fetch_add(1, std::memory_order_relaxed);
    const std::uint32_t inc = lineage_.born(task.incarnation, fork_end);
    incarnation_[*child].store(inc, std::memory_order_release);
    live_.fetch_add(1);
    if (exact_pins_policy_) CheckNoPinnedSharedPage(task, *child);
    Task handed{*child, inc, {}};
    Inbox& inbox = inboxes_[rng.below(inboxes_.size())];
    std::lock_guard lock(inbox.mu);
    inbox.tasks.push_back(std::move(handed));
  }

  // Under split and anon-exclusive a shared page is never pinned: a recorded pin on a page the
  // fork just shared slipped in while it ran. Decided on one snapshot of the page's holders, so
  // that an unshare racing with the check cannot make a legal state look shared.
  void CheckNoPinnedSharedPage(const Task& parent, ProcessId child) {
    for (Addr a = 0; a < kPages; ++a) {
      const PageId page = model_->page_at(child, a);
      if (page == mm::kNoPage) continue;
      const mm::PageHolders h = model_->holders(page);
      const auto maps = [&](ProcessId p) {
        return std::find(h.mappings.begin(), h.mappings.end(), std::make_pair(p, a)) !=
               h.mappings.end();
      };
      if (!h.pins.empty() && maps(parent.pid) && maps(child)) {
        control_.violation(absl::StrCat("a pin slipped into fork: page ", page, " at ", a,
                                        " is pinned (", h.pins.size(), " pin(s)) and mapped by ",
                                        h.mappings.size(), " processes, the child among them"));
      }
    }
  }

  void ForeignPinOp(Rng& rng, ThreadState& me) {
    if (me.foreign.size() >= 4) {
      (void)model_->unpin(me.foreign.front().id);
      me.foreign.erase(me.foreign.begin());
      return;
    }
    const ProcessId p = static_cast<ProcessId>(rng.below(kMaxProcesses));
    const std::uint32_t owner = incarnation_[p].load(std::memory_order_acquire);
    if (owner == kNoIncarnation) return;
    const PinKind kind = rng.below(2) == 0 ? PinKind::kRead : PinKind::kWrite;
    absl::StatusOr<mm::PinOutcome> out =
        model_->pin(p, static_cast<Addr>(rng.below(kPages)), kind, false, /*fast=*/true);
    if (!out.ok() || out->result != PinResult::kPinned) return;
    if (incarnation_[p].load(std::memory_order_acquire) != owner) {  // the slot changed hands
      (void)model_->unpin(out->id);
      return;
    }
    me.foreign.push_back({out->id, owner, kind});
  }

  void ForeignIo(Rng& rng, ThreadState& me) {
    if (me.foreign.empty()) return;
    const ForeignPin& pin = me.foreign[rng.below(me.foreign.size())];
    if (pin.kind == PinKind::kWrite && rng.below(2) == 0) {
      (void)model_->write_pin(pin.id, Tag(pin.owner, Tick()));
      return;
    }
    absl::StatusOr<std::uint64_t> v = model_->read_pin(pin.id);
    if (v.ok() && !lineage_.may_see(pin.owner, *v)) {
      control_.violation(absl::StrCat("isolation: a pin on process ", pin.owner, "'s page read ",
                                      *v, " written by ", WriterOf(*v)));
    }
  }

  void RefOp(Rng& rng, ThreadState& me) {
    if (me.refs.size() >= 4) {
      (void)model_->drop_ref(me.refs.front());
      me.refs.erase(me.refs.begin());
      return;
    }
    const ProcessId p = static_cast<ProcessId>(rng.below(kMaxProcesses));
    absl::StatusOr<RefId> ref = model_->take_ref(p, static_cast<Addr>(rng.below(kPages)));
    if (ref.ok()) me.refs.push_back(*ref);
  }

  void CheckQuiescent(std::uint64_t misuses) {
    for (PageId page : model_->pages_in_use()) {
      if (model_->counter_state(page).saturated) continue;
      control_.violation(absl::StrCat("page ", page, " is still in use after everything let go"));
    }
    if (misuses != 0) control_.violation(absl::StrCat(misuses, " counter misuse(s) reported"));
  }

  const StormOptions& options_;
  StormControl control_;
  std::unique_ptr<Model> model_;
  std::vector<Inbox> inboxes_;
  Lineage lineage_;
  std::array<std::atomic<std::uint32_t>, kMaxProcesses> incarnation_;
  std::atomic<std::uint64_t> clock_{0};
  std::atomic<int> live_{0};
  std::atomic<std::uint64_t> forks_{0};
  bool exact_pins_policy_ = false;
};

}  // namespace

const std::map<std::string, unsigned>& MmStormOps() {
  static const auto* ops = new std::map<std::string, unsigned>{
      {"write", 6},   {"read", 6}, {"fork", 2},        {"exit", 1},       {"unmap_map", 1},
      {"protect", 1}, {"pin", 2},  {"foreign_pin", 3}, {"foreign_io", 4}, {"ref", 1}};
  return *ops;
}

absl::StatusOr<StormResult> RunMmStorm(const StormOptions& options) {
  absl::StatusOr<MmModelVariant> variant = ParseVariant(options.mm_variant);
  if (!variant.ok()) return variant.status();
  mm::MmOptions mm_options;
  mm_options.policy = options.policy;
  mm_options.impl = options.scheme;
  mm_options.max_pages = 1 << 13;
  mm_options.max_processes = kMaxProcesses;
  mm_options.max_handles = 1 << 12;
  mm_options.check_write_protect_seq = options.check_write_protect_seq;
  return WithVariantSync<mm::StdSync>(
      *variant, mm_options,
      [&]<class Sync>(const mm::MmOptions& adjusted) -> absl::StatusOr<StormResult> {
        using Model = mm::BasicMmModel<Sync>;
        absl::StatusOr<std::unique_ptr<Model>> model = Model::Create(adjusted);
        if (!model.ok()) return model.status();
        if ((*model)->policy().omniscient()) {
          return absl::InvalidArgumentError(absl::StrCat(
              "policy '", options.policy, "' is omniscient and runs only sequentially"));
        }
        MmStorm<Model> storm(options, *std::move(model));
        return storm.Run();
      });
}

}  // namespace pinsplit::stress
