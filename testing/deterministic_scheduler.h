// SPDX-License-Identifier: MIT
// DeterministicScheduler: runs 1..4 logical threads one at a time, switching only at atomic
// accesses, with a Chooser deciding who performs the next access.
//
// Guarantees:
//   - Exactly one logical thread runs at any moment; the others are parked just before their
//     next atomic access (DeterministicAtomic calls BeforeAccess()). A run is therefore a
//     sequence of accesses, each a "step", in one global order.
//   - A decision is taken before every step at which two or more threads are parked; the
//     Chooser picks one of them. Steps with one candidate are not decisions. Every decision is
//     recorded (RunOutcome::choices), and feeding those ids back through a PreferenceChooser
//     replays the same run exactly, as long as the program is deterministic.
//   - Before the first decision every thread has run up to its first access (or finished), so
//     the first decision already sees every thread's first access.
//   - Run() returns after every body has returned.
//
// Two engines move the baton between logical threads, with the same decisions, the same
// recorded choices and so the same replays (deterministic_scheduler_engines_test checks it):
//   - kFibers (the default): every logical thread is a Fiber (fiber.h) on the OS thread that
//     calls Run; a hand-off is a user-space register switch. Fiber stacks belong to the OS
//     thread (made on first use, reused by every run and every scheduler on it, unmapped at
//     thread exit), so a scheduler made per fuzz input costs no system call. Code in a body must
//     not block the OS thread waiting for another logical thread (a std::mutex held across a
//     scheduling point would deadlock): every wait must go through scheduling points, as
//     DeterministicAtomic's do.
//   - kThreads (the reference): one std::thread per logical thread, owned by the scheduler,
//     reused across runs and joined by the destructor; the baton passes through a mutex and a
//     condition variable, a kernel round trip per hand-off.
//
// By default it explores interleavings, not weak-memory reorderings: every access is
// sequentially consistent. In store-buffer mode (set_store_buffers) it also explores x86-TSO
// reorderings: each logical thread's non-seq_cst stores wait in a per-thread FIFO buffer, its own
// loads read its newest buffered value (store forwarding), and a store leaves the buffer for
// memory when the Chooser picks it: at a decision, "commit the oldest buffered store of thread
// k" is a candidate with id kFlushBase + k, beside the threads, when another parked thread's
// next access touches a location k has buffered. (A commit nobody can observe yet is deferred
// to the point where someone could: the same outcomes, far fewer schedules.) A seq_cst store, every
// read-modify-write and a seq_cst fence (DeterministicFence) first drain the thread's buffer, as
// x86's locked instructions and mfence do. Buffers left when every thread has finished are
// drained in thread order without decisions. PreferredOrNext falls back to threads only, so
// preference lists from fuzz bytes or scripts leave buffered stores to the drains and the end;
// recorded choices replay flushes exactly. Observers (Unscheduled) read every store that has run,
// as if the buffers had drained in the order their stores ran.
//
// In weak mode (MemoryModel::kWeak) it explores the C++ memory model itself (weak_memory.h says
// what is modelled and the bounds): a load may read an older store than the newest one that
// coherence, happens-before and the seq_cst rules leave visible, and which one is a decision,
// with candidates kReadFromBase + age (age 0: the newest store; listed first, so the first
// schedule an ExhaustiveChooser runs reads the newest everywhere). A reads-from decision is not a
// preemption. Observers read the newest store. Ideas from folly's DeterministicSchedule, loom,
// CDSChecker, shuttle and CHESS; written for pinsplit.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "fiber.h"
#include "weak_memory.h"

namespace pinsplit {

inline constexpr int kMaxLogicalThreads = 4;
static_assert(kWeakThreads == kMaxLogicalThreads + 1, "weak_memory.h sizes its clocks by it");
// In store-buffer mode, candidate kFlushBase + k commits thread k's oldest buffered store.
inline constexpr int kFlushBase = 100;
// In weak mode, candidate kReadFromBase + age has a load read the store `age` back from the
// newest it may read.
inline constexpr int kReadFromBase = 200;

// Which reorderings a run explores besides interleavings (see DeterministicScheduler).
enum class MemoryModel : std::uint8_t {
  kSequential,    // every access sequentially consistent: interleavings only
  kStoreBuffers,  // x86-TSO: per-thread FIFO store buffers
  kWeak,          // the C++ memory model's reads-from choices (weak_memory.h), bounded
};
std::string_view MemoryModelName(MemoryModel model);

// While one lives, every DeterministicScheduler run started on this OS thread uses `model`
// (and `bounds`) instead of its own setting: runs a harness that owns its scheduler (the mm and
// counter runners) under another memory model without plumbing an option through it.
class ScopedMemoryModel {
 public:
  explicit ScopedMemoryModel(MemoryModel model, WeakMemoryBounds bounds = {});
  ~ScopedMemoryModel();
  ScopedMemoryModel(const ScopedMemoryModel&) = delete;
  ScopedMemoryModel& operator=(const ScopedMemoryModel&) = delete;

 private:
  bool had_previous_;
  MemoryModel previous_model_;
  WeakMemoryBounds previous_bounds_;
};

// Picks the thread that performs the next access. Called with at least two candidates.
class Chooser {
 public:
  virtual ~Chooser() = default;
  // `runnable`: ids (1-based, ascending) of the parked threads, then (store-buffer mode only)
  // kFlushBase + k for each thread k with a buffered store; or, for a load's reads-from
  // decision (weak mode), kReadFromBase + 0, 1, ... alone. `last`: the thread that performed
  // the previous access (0 before the first). Returns one of `runnable`.
  virtual int Choose(std::span<const int> runnable, int last) = 0;
};

// `preferred` if it is runnable, else the first runnable id after it in cyclic order 1..4.
// The rule that makes any preference list (fuzz bytes, a script's schedule) a valid schedule.
// A flush id (store-buffer mode) is taken only when it is a candidate, so recorded choices
// replay flushes too. At a reads-from decision, `preferred` if it is a candidate, else the
// newest store.
int PreferredOrNext(std::span<const int> runnable, int preferred);

// Follows a list of preferred ids, one per decision (PreferredOrNext). When the list runs out,
// keeps running the thread that ran last while it can (no more preemptions).
class PreferenceChooser final : public Chooser {
 public:
  explicit PreferenceChooser(std::vector<int> preferences) : preferences_(std::move(preferences)) {}
  int Choose(std::span<const int> runnable, int last) override;
  std::size_t used() const { return next_; }

 private:
  std::vector<int> preferences_;
  std::size_t next_ = 0;
};

// Uniformly random among the runnable threads, from a fixed seed (reproducible).
class RandomChooser final : public Chooser {
 public:
  explicit RandomChooser(std::uint64_t seed) : rng_(seed) {}
  int Choose(std::span<const int> runnable, int last) override;

 private:
  std::mt19937_64 rng_;
};

// Enumerates every schedule of a deterministic program by depth-first search over decisions:
//
//   ExhaustiveChooser explorer;
//   do { run the program with `explorer` as its chooser; } while (explorer.Advance());
//
// Each run follows the recorded prefix and then takes the first candidate at every new
// decision; Advance() moves to the next unexplored branch. Aborts if a replayed prefix meets a
// different number of candidates (the program is not deterministic).
//
// With a preemption bound (CHESS's iterative context bounding), only the schedules with at most
// that many preemptions are run: a preemption is a decision that picks another thread while the
// one that ran last could go on. Every schedule within the bound is run exactly once; the
// unbounded explorer (the default) runs every schedule.
class ExhaustiveChooser final : public Chooser {
 public:
  static constexpr int kUnbounded = -1;
  explicit ExhaustiveChooser(int max_preemptions = kUnbounded)
      : max_preemptions_(max_preemptions) {}
  int Choose(std::span<const int> runnable, int last) override;
  // Prepares the next schedule; false when every schedule has been run.
  bool Advance();

 private:
  struct Decision {
    int index;     // which of the allowed candidates this schedule takes
    int options;   // how many candidates are allowed (1 when the bound forces `last`)
    int runnable;  // how many threads could run (to catch a nondeterministic program)
  };
  std::vector<Decision> path_;
  std::size_t depth_ = 0;
  int max_preemptions_;
  int preemptions_ = 0;  // in the run so far
};

struct RunOutcome {
  std::vector<int> choices;       // the thread picked at each decision, in order
  std::vector<int> step_threads;  // the thread that performed each step (access), in order
};

// One access as DeterministicAtomic reports it, for traces.
struct AccessRecord {
  int thread;
  const char* what;  // "load", "fetch_sub", "cas", ...
  std::uint64_t before;
  std::uint64_t after;
  bool succeeded;  // false only for a failed compare-exchange
};

enum class SchedulerEngine {
  kFibers,   // logical threads as fibers on the caller's OS thread
  kThreads,  // one OS thread per logical thread, a mutex and condition variable baton
};

class DeterministicScheduler {
 public:
  explicit DeterministicScheduler(SchedulerEngine engine = SchedulerEngine::kFibers)
      : engine_(engine) {}
  ~DeterministicScheduler();
  DeterministicScheduler(const DeterministicScheduler&) = delete;
  DeterministicScheduler& operator=(const DeterministicScheduler&) = delete;

  // Runs bodies[i] as logical thread i+1 (1 to 4 bodies) under `chooser`; returns when all
  // have returned. Not reentrant: one Run at a time per scheduler, one scheduler running per
  // OS thread (DeterministicAtomic finds it through a thread-local).
  RunOutcome Run(const std::vector<std::function<void()>>& bodies, Chooser& chooser);
  // The same into `outcome`, whose vectors the run reuses.
  void Run(const std::vector<std::function<void()>>& bodies, Chooser& chooser, RunOutcome& outcome);

  // The memory model (see the class comment); kSequential by default. Set between runs; a
  // ScopedMemoryModel on the OS thread that calls Run overrides it.
  void set_memory_model(MemoryModel model, WeakMemoryBounds bounds = {}) {
    model_ = model;
    weak_bounds_ = bounds;
  }
  MemoryModel memory_model() const { return model_; }
  // Store-buffer mode on or off (kStoreBuffers or kSequential).
  void set_store_buffers(bool on) {
    model_ = on ? MemoryModel::kStoreBuffers : MemoryModel::kSequential;
  }
  bool store_buffers() const { return model_ == MemoryModel::kStoreBuffers; }

  // Every access of the last Run, in step order (empty unless record_accesses(true)).
  const std::vector<AccessRecord>& accesses() const { return accesses_; }
  void record_accesses(bool on) { record_accesses_ = on; }

  // For code running inside a logical thread; outside a run they do nothing / return 0.
  // `target`: the location the access touches (null for a fence), which store-buffer mode
  // uses to offer a flush only where it can be seen (see PickNextLocked in the .cc).
  static void BeforeAccess(const void* target = nullptr);
  static void AfterAccess(const char* what, std::uint64_t before, std::uint64_t after,
                          bool succeeded);
  static int CurrentThread();

  // For locks built on the scheduler (DeterministicMutex): BlockOn parks the calling logical
  // thread until another calls WakeAll with the same object, handing the baton on (not a step,
  // not an access; a decision if two or more others can run). A run in which every unfinished
  // thread is blocked aborts as a deadlock. Outside a run BlockOn yields the OS thread.
  static void BlockOn(const void* object);
  static void WakeAll(const void* object);

  // Store-buffer mode, for DeterministicAtomic: whether the calling logical thread buffers its
  // non-seq_cst stores in this run; buffers one (`commit(target, value)` writes it to memory
  // later); the newest value the thread buffered for `target`, if any; and a drain of the
  // thread's buffer (before seq_cst stores, read-modify-writes and seq_cst fences).
  static bool Buffering();
  static void BufferStore(void* target, std::uint64_t value,
                          void (*commit)(void* target, std::uint64_t value));
  static bool Forwarded(const void* target, std::uint64_t* value);
  static void DrainOwnBuffer();

  // Weak mode, for DeterministicAtomic (`memory`: the value the real atomic holds, the newest
  // store). WeakLoad: false when the access is not under weak mode (outside a run, store
  // buffers, an observer), else the value the load reads (a reads-from decision when it may
  // read more than one store). WeakWrite: after a store or RMW changed memory from `before` to
  // `after` (an observer's write becomes a store that happens before every thread).
  // WeakReadNewest: a failed compare-exchange's read. WeakFence: a fence's effect.
  static bool WeakLoad(WeakLocationRef& ref, std::uint64_t memory, std::memory_order order,
                       std::uint64_t* value);
  static void WeakWrite(WeakLocationRef& ref, std::uint64_t before, std::uint64_t after,
                        std::memory_order order, bool rmw);
  static void WeakReadNewest(WeakLocationRef& ref, std::uint64_t memory, std::memory_order order);
  static void WeakFence(std::memory_order order);
  // Weak mode, for race checks in tests: the calling logical thread's own clock (how many
  // accesses it has made), and whether logical thread `thread`'s point at `epoch` happens
  // before the calling thread's present point. Outside weak mode: 0, and true (nothing is
  // tracked, and under TSO or sequential consistency every RMW orders everything).
  static std::uint32_t WeakEpoch();
  static bool WeakHappensBefore(int thread, std::uint32_t epoch);
  // How many accesses the calling logical thread has performed in this run.
  static std::size_t AccessesByCurrentThread();

  // While one lives, the calling logical thread's accesses are not scheduling points and not
  // steps: they run at once, atomically with the step before them, unrecorded. For observers
  // (reading a counter's predicates right after an operation) that must not change the
  // schedule a run takes.
  class Unscheduled {
   public:
    Unscheduled() { ++unscheduled_depth_; }
    ~Unscheduled() { --unscheduled_depth_; }
    Unscheduled(const Unscheduled&) = delete;
    Unscheduled& operator=(const Unscheduled&) = delete;
  };

  SchedulerEngine engine() const { return engine_; }

 private:
  // Bytes of stack each fiber gets (ASan frames are large; the mapping is lazy).
  static constexpr std::size_t kFiberStackBytes = std::size_t{512} * 1024;

  void ResetRun(const std::vector<std::function<void()>>& bodies, Chooser& chooser);
  void RunOnFibers();
  static void FiberMain(void* scheduler);
  // Fiber engine: hands the baton from `self` to `next` (0: the controller).
  void SwitchFibers(int self, int next, bool self_finished);
  void RunOnThreads(std::unique_lock<std::mutex>& lock);
  void WorkerLoop(int id);
  // The next thread to hold the baton (0: back to the controller). Thread engine: mu_ held.
  int PickNextLocked();
  // With mu_ held by the baton holder `self`: gives the baton to `next` and waits for it back.
  void HandOffLocked(std::unique_lock<std::mutex>& lock, int self, int next);

  SchedulerEngine engine_;
  static thread_local int unscheduled_depth_;

  // Fiber engine: the caller's context (made in each Run, on the caller's OS thread); the
  // logical threads' fibers are the OS thread's (FiberFor in the .cc).
  std::optional<Fiber> controller_;

  // Thread engine.
  std::mutex mu_;
  // cvs_[i] wakes logical thread i; cvs_[0] wakes the controller (the caller of Run).
  std::condition_variable cvs_[kMaxLogicalThreads + 1];
  std::vector<std::thread> workers_;  // workers_[i] runs logical thread i+1
  bool shutdown_ = false;
  std::uint64_t generation_ = 0;  // bumped by every Run; workers start one body per bump
  const std::vector<std::function<void()>>* bodies_ = nullptr;
  Chooser* chooser_ = nullptr;
  int thread_count_ = 0;
  int running_ = 0;        // who holds the baton: 1..4, or 0 for the controller
  int next_to_start_ = 0;  // start-up: threads not yet run to their first access
  int last_ = 0;           // who performed the previous access
  bool finished_[kMaxLogicalThreads + 1] = {};
  const void* blocked_on_[kMaxLogicalThreads + 1] = {};  // what each thread waits on, or null
  int finished_count_ = 0;
  std::size_t access_count_[kMaxLogicalThreads + 1] = {};
  const void* next_target_[kMaxLogicalThreads + 1] = {};  // each parked thread's next location
  RunOutcome outcome_;
  bool record_accesses_ = false;
  std::vector<AccessRecord> accesses_;

  struct BufferedStore {
    void* target;
    std::uint64_t value;
    void (*commit)(void* target, std::uint64_t value);
    std::uint64_t order;  // when it was buffered, across threads (for observers)
  };
  MemoryModel model_ = MemoryModel::kSequential;
  WeakMemoryBounds weak_bounds_;
  // The model of the run in progress (the setting or a ScopedMemoryModel's).
  bool store_buffers_ = false;
  bool weak_ = false;
  WeakMemory weak_memory_;
  std::uint64_t buffered_so_far_ = 0;
  // Weak mode: a reads-from decision among `candidates` stores; returns the age picked.
  int ChooseReadFrom(int candidates);
  std::vector<BufferedStore> buffers_[kMaxLogicalThreads + 1];  // FIFO per logical thread
  void CommitOldest(int thread);
  bool BufferSeenByAnother(int thread) const;
};

}  // namespace pinsplit
