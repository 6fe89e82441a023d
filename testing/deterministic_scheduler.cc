// SPDX-License-Identifier: MIT
#include "deterministic_scheduler.h"

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <thread>

namespace pinsplit {
namespace {

// The scheduler and logical thread id of the calling worker; null / 0 on any other thread.
thread_local DeterministicScheduler* current_scheduler = nullptr;
thread_local int current_thread = 0;

// A ScopedMemoryModel's override for runs started on this OS thread.
struct MemoryModelOverride {
  bool on = false;
  MemoryModel model = MemoryModel::kSequential;
  WeakMemoryBounds bounds;
};
thread_local MemoryModelOverride memory_model_override;

unsigned WeakOrdering(std::memory_order order) {
  switch (order) {
    case std::memory_order_relaxed:
      return 0;
    case std::memory_order_consume:
    case std::memory_order_acquire:
      return WeakMemory::kAcquire;
    case std::memory_order_release:
      return WeakMemory::kRelease;
    case std::memory_order_acq_rel:
      return WeakMemory::kAcquire | WeakMemory::kRelease;
    case std::memory_order_seq_cst:
      break;
  }
  return WeakMemory::kAcquire | WeakMemory::kRelease | WeakMemory::kSeqCst;
}

[[noreturn]] void Fail(const char* what) {
  std::fprintf(stderr, "DeterministicScheduler: %s\n", what);
  std::abort();
}

// The fiber that runs logical thread `id` on the calling OS thread, made on first use.
Fiber& FiberFor(int id, std::size_t stack_bytes) {
  thread_local std::unique_ptr<Fiber> fibers[kMaxLogicalThreads + 1];
  if (!fibers[id]) fibers[id] = std::make_unique<Fiber>(stack_bytes);
  return *fibers[id];
}

bool Contains(std::span<const int> ids, int id) {
  for (int x : ids) {
    if (x == id) return true;
  }
  return false;
}

}  // namespace

thread_local int DeterministicScheduler::unscheduled_depth_ = 0;

std::string_view MemoryModelName(MemoryModel model) {
  switch (model) {
    case MemoryModel::kSequential:
      return "sequential";
    case MemoryModel::kStoreBuffers:
      return "x86-tso";
    case MemoryModel::kWeak:
      return "c++-weak";
  }
  return "?";
}

ScopedMemoryModel::ScopedMemoryModel(MemoryModel model, WeakMemoryBounds bounds)
    : had_previous_(memory_model_override.on),
      previous_model_(memory_model_override.model),
      previous_bounds_(memory_model_override.bounds) {
  memory_model_override = {true, model, bounds};
}

ScopedMemoryModel::~ScopedMemoryModel() {
  memory_model_override = {had_previous_, previous_model_, previous_bounds_};
}

int PreferredOrNext(std::span<const int> runnable, int preferred) {
  // A flush or a reads-from choice.
  if (preferred > kMaxLogicalThreads && Contains(runnable, preferred)) return preferred;
  // A reads-from decision that the preference does not name: the newest store.
  if (!runnable.empty() && runnable.front() >= kReadFromBase) return runnable.front();
  // Normalise into 1..kMaxLogicalThreads, then walk forward cyclically.
  int start = ((preferred - 1) % kMaxLogicalThreads + kMaxLogicalThreads) % kMaxLogicalThreads;
  for (int k = 0; k < kMaxLogicalThreads; ++k) {
    const int id = (start + k) % kMaxLogicalThreads + 1;
    if (Contains(runnable, id)) return id;
  }
  Fail("PreferredOrNext called with no runnable thread");
}

int PreferenceChooser::Choose(std::span<const int> runnable, int last) {
  if (next_ < preferences_.size()) return PreferredOrNext(runnable, preferences_[next_++]);
  return PreferredOrNext(runnable, last == 0 ? 1 : last);
}

int RandomChooser::Choose(std::span<const int> runnable, int /*last*/) {
  return runnable[rng_() % runnable.size()];
}

int ExhaustiveChooser::Choose(std::span<const int> runnable, int last) {
  const int count = static_cast<int>(runnable.size());
  const bool last_can_run = Contains(runnable, last);
  const bool forced =
      max_preemptions_ != kUnbounded && last_can_run && preemptions_ >= max_preemptions_;
  if (depth_ == path_.size()) path_.push_back({0, forced ? 1 : count, count});
  const Decision& d = path_[depth_++];
  if (d.runnable != count) Fail("replayed prefix met a different choice: nondeterministic program");
  const int pick = forced ? last : runnable[d.index];
  if (last_can_run && pick != last) ++preemptions_;
  return pick;
}

bool ExhaustiveChooser::Advance() {
  depth_ = 0;
  preemptions_ = 0;
  while (!path_.empty() && path_.back().index + 1 >= path_.back().options) path_.pop_back();
  if (path_.empty()) return false;
  ++path_.back().index;
  return true;
}

DeterministicScheduler::~DeterministicScheduler() {
  {
    std::lock_guard lock(mu_);
    shutdown_ = true;
  }
  for (auto& cv : cvs_) cv.notify_all();
  for (std::thread& t : workers_) t.join();
}

void DeterministicScheduler::ResetRun(const std::vector<std::function<void()>>& bodies,
                                      Chooser& chooser) {
  bodies_ = &bodies;
  chooser_ = &chooser;
  thread_count_ = static_cast<int>(bodies.size());
  next_to_start_ = 2;
  last_ = 0;
  finished_count_ = 0;
  for (int i = 0; i <= kMaxLogicalThreads; ++i) {
    finished_[i] = false;
    access_count_[i] = 0;
    next_target_[i] = nullptr;
  }
  outcome_.choices.clear();
  outcome_.step_threads.clear();
  accesses_.clear();
  for (auto& buffer : buffers_) buffer.clear();
  buffered_so_far_ = 0;
  for (const void*& object : blocked_on_) object = nullptr;
  const MemoryModel model = memory_model_override.on ? memory_model_override.model : model_;
  store_buffers_ = model == MemoryModel::kStoreBuffers;
  weak_ = model == MemoryModel::kWeak;
  if (weak_) {
    weak_memory_.Reset(memory_model_override.on ? memory_model_override.bounds : weak_bounds_);
  }
}

RunOutcome DeterministicScheduler::Run(const std::vector<std::function<void()>>& bodies,
                                       Chooser& chooser) {
  RunOutcome outcome;
  Run(bodies, chooser, outcome);
  return outcome;
}

void DeterministicScheduler::Run(const std::vector<std::function<void()>>& bodies, Chooser& chooser,
                                 RunOutcome& outcome) {
  std::swap(outcome_, outcome);  // the run records into the caller's vectors
  const int n = static_cast<int>(bodies.size());
  if (n < 1 || n > kMaxLogicalThreads) Fail("Run takes 1 to 4 bodies");
  if (current_scheduler != nullptr) Fail("Run called from inside a logical thread");
  if (engine_ == SchedulerEngine::kFibers) {
    ResetRun(bodies, chooser);
    RunOnFibers();
  } else {
    while (static_cast<int>(workers_.size()) < n) {
      const int id = static_cast<int>(workers_.size()) + 1;
      workers_.emplace_back([this, id] { WorkerLoop(id); });
    }
    std::unique_lock lock(mu_);
    ResetRun(bodies, chooser);
    RunOnThreads(lock);
  }
  bodies_ = nullptr;
  chooser_ = nullptr;
  std::swap(outcome_, outcome);
}

void DeterministicScheduler::RunOnFibers() {
  controller_.emplace();
  for (int id = 1; id <= thread_count_; ++id) {
    FiberFor(id, kFiberStackBytes).Prepare(&DeterministicScheduler::FiberMain, this);
  }
  current_scheduler = this;
  SwitchFibers(0, 1, false);
  // Every fiber has finished; the last one switched back here.
  current_scheduler = nullptr;
  current_thread = 0;
  controller_.reset();
}

void DeterministicScheduler::FiberMain(void* scheduler) {
  auto* s = static_cast<DeterministicScheduler*>(scheduler);
  const int id = current_thread;
  (*s->bodies_)[id - 1]();
  s->finished_[id] = true;
  ++s->finished_count_;
  s->SwitchFibers(id, s->PickNextLocked(), true);
  Fail("a finished logical thread was resumed");
}

void DeterministicScheduler::SwitchFibers(int self, int next, bool self_finished) {
  if (next == self) return;
  Fiber& from = self == 0 ? *controller_ : FiberFor(self, kFiberStackBytes);
  Fiber& to = next == 0 ? *controller_ : FiberFor(next, kFiberStackBytes);
  current_thread = next;
  Fiber::Switch(from, to, self_finished);
}

void DeterministicScheduler::RunOnThreads(std::unique_lock<std::mutex>& lock) {
  ++generation_;
  running_ = 1;
  cvs_[1].notify_one();
  cvs_[0].wait(lock, [&] { return running_ == 0 && finished_count_ == thread_count_; });
}

void DeterministicScheduler::WorkerLoop(int id) {
  std::unique_lock lock(mu_);
  std::uint64_t done_generation = 0;
  for (;;) {
    cvs_[id].wait(lock,
                  [&] { return shutdown_ || (generation_ != done_generation && running_ == id); });
    if (shutdown_) return;
    done_generation = generation_;
    const std::function<void()>& body = (*bodies_)[id - 1];
    lock.unlock();
    current_scheduler = this;
    current_thread = id;
    body();
    current_scheduler = nullptr;
    current_thread = 0;
    lock.lock();
    finished_[id] = true;
    ++finished_count_;
    running_ = PickNextLocked();
    cvs_[running_].notify_one();
  }
}

int DeterministicScheduler::PickNextLocked() {
  if (next_to_start_ <= thread_count_) return next_to_start_++;
  for (;;) {
    int candidates[2 * kMaxLogicalThreads];
    int live = 0;
    int threads = 0;
    for (int id = 1; id <= thread_count_; ++id) {
      if (finished_[id]) continue;
      ++live;
      if (blocked_on_[id] == nullptr) candidates[threads++] = id;
    }
    if (live > 0 && threads == 0) Fail("deadlock: every unfinished logical thread waits on a lock");
    int n = threads;
    if (store_buffers_) {
      if (live == 0) {  // every thread finished: drain what is left, in thread order
        for (int id = 1; id <= thread_count_; ++id) {
          while (!buffers_[id].empty()) CommitOldest(id);
        }
        return 0;
      }
      // A commit matters only to an access of the same location by another thread (each
      // thread sees its own buffer): offer it only when a parked thread is about to make one.
      for (int id = 1; id <= thread_count_; ++id) {
        if (!buffers_[id].empty() && BufferSeenByAnother(id)) candidates[n++] = kFlushBase + id;
      }
    }
    if (n == 0) return 0;
    if (n == 1) return candidates[0];
    const std::span<const int> span(candidates, static_cast<std::size_t>(n));
    const int pick = chooser_->Choose(span, last_);
    if (!Contains(span, pick)) Fail("chooser picked a thread that cannot run");
    outcome_.choices.push_back(pick);
    if (pick < kFlushBase) return pick;
    CommitOldest(pick - kFlushBase);
  }
}

bool DeterministicScheduler::BufferSeenByAnother(int thread) const {
  for (int other = 1; other <= thread_count_; ++other) {
    if (other == thread || finished_[other] || blocked_on_[other] != nullptr) continue;
    const void* target = next_target_[other];
    if (target == nullptr) continue;
    for (const BufferedStore& store : buffers_[thread]) {
      if (store.target == target) return true;
    }
  }
  return false;
}

void DeterministicScheduler::CommitOldest(int thread) {
  std::vector<BufferedStore>& buffer = buffers_[thread];
  const BufferedStore store = buffer.front();
  buffer.erase(buffer.begin());
  store.commit(store.target, store.value);
  if (record_accesses_) accesses_.push_back({thread, "commit", store.value, store.value, true});
}

bool DeterministicScheduler::Buffering() {
  DeterministicScheduler* s = current_scheduler;
  return s != nullptr && s->store_buffers_ && current_thread != 0 && unscheduled_depth_ == 0;
}

void DeterministicScheduler::BufferStore(void* target, std::uint64_t value,
                                         void (*commit)(void*, std::uint64_t)) {
  DeterministicScheduler* s = current_scheduler;
  s->buffers_[current_thread].push_back({target, value, commit, s->buffered_so_far_++});
}

bool DeterministicScheduler::Forwarded(const void* target, std::uint64_t* value) {
  DeterministicScheduler* s = current_scheduler;
  if (s == nullptr || !s->store_buffers_ || current_thread == 0) return false;
  if (unscheduled_depth_ != 0) {
    // An observer: the store to `target` that ran last, whichever buffer holds it.
    const BufferedStore* last = nullptr;
    for (const std::vector<BufferedStore>& buffer : s->buffers_) {
      for (const BufferedStore& store : buffer) {
        if (store.target == target && (last == nullptr || store.order > last->order)) {
          last = &store;
        }
      }
    }
    if (last != nullptr) *value = last->value;
    return last != nullptr;
  }
  const std::vector<BufferedStore>& buffer = s->buffers_[current_thread];
  for (auto it = buffer.rbegin(); it != buffer.rend(); ++it) {
    if (it->target == target) {
      *value = it->value;
      return true;
    }
  }
  return false;
}

void DeterministicScheduler::DrainOwnBuffer() {
  DeterministicScheduler* s = current_scheduler;
  if (s == nullptr || !s->store_buffers_ || current_thread == 0) return;
  while (!s->buffers_[current_thread].empty()) s->CommitOldest(current_thread);
}

int DeterministicScheduler::ChooseReadFrom(int candidates) {
  if (candidates <= 1 || !weak_memory_.stale_reads_left()) return 0;
  int ids[kMaxWeakHistory];
  for (int age = 0; age < candidates; ++age) ids[age] = kReadFromBase + age;
  const std::span<const int> span(ids, static_cast<std::size_t>(candidates));
  const int pick = chooser_->Choose(span, last_);
  if (!Contains(span, pick)) Fail("chooser picked a store the load cannot read");
  outcome_.choices.push_back(pick);
  return pick - kReadFromBase;
}

bool DeterministicScheduler::WeakLoad(WeakLocationRef& ref, std::uint64_t memory,
                                      std::memory_order order, std::uint64_t* value) {
  DeterministicScheduler* s = current_scheduler;
  if (s == nullptr || !s->weak_ || current_thread == 0 || unscheduled_depth_ != 0) return false;
  const int candidates =
      s->weak_memory_.LoadCandidates(ref, memory, current_thread, WeakOrdering(order));
  *value = s->weak_memory_.FinishLoad(s->ChooseReadFrom(candidates));
  return true;
}

void DeterministicScheduler::WeakWrite(WeakLocationRef& ref, std::uint64_t before,
                                       std::uint64_t after, std::memory_order order, bool rmw) {
  DeterministicScheduler* s = current_scheduler;
  if (s == nullptr || !s->weak_ || current_thread == 0) return;
  if (unscheduled_depth_ != 0) {
    s->weak_memory_.ObserverStore(ref, before, after);
    return;
  }
  s->weak_memory_.Store(ref, before, after, current_thread, WeakOrdering(order), rmw);
}

void DeterministicScheduler::WeakReadNewest(WeakLocationRef& ref, std::uint64_t memory,
                                            std::memory_order order) {
  DeterministicScheduler* s = current_scheduler;
  if (s == nullptr || !s->weak_ || current_thread == 0 || unscheduled_depth_ != 0) return;
  s->weak_memory_.ReadNewest(ref, memory, current_thread, WeakOrdering(order));
}

void DeterministicScheduler::WeakFence(std::memory_order order) {
  DeterministicScheduler* s = current_scheduler;
  if (s == nullptr || !s->weak_ || current_thread == 0 || unscheduled_depth_ != 0) return;
  s->weak_memory_.Fence(current_thread, WeakOrdering(order));
}

std::uint32_t DeterministicScheduler::WeakEpoch() {
  DeterministicScheduler* s = current_scheduler;
  if (s == nullptr || !s->weak_ || current_thread == 0) return 0;
  return s->weak_memory_.Epoch(current_thread);
}

bool DeterministicScheduler::WeakHappensBefore(int thread, std::uint32_t epoch) {
  DeterministicScheduler* s = current_scheduler;
  if (s == nullptr || !s->weak_ || current_thread == 0) return true;
  if (thread < 0 || thread > kMaxLogicalThreads) Fail("WeakHappensBefore: no such thread");
  return s->weak_memory_.HappensBefore(thread, epoch, current_thread);
}

void DeterministicScheduler::HandOffLocked(std::unique_lock<std::mutex>& lock, int self, int next) {
  if (next == self) return;
  running_ = next;
  cvs_[next].notify_one();
  cvs_[self].wait(lock, [&] { return running_ == self; });
}

void DeterministicScheduler::BeforeAccess(const void* target) {
  DeterministicScheduler* s = current_scheduler;
  if (s == nullptr || unscheduled_depth_ != 0) return;
  const int self = current_thread;
  s->next_target_[self] = target;
  if (s->engine_ == SchedulerEngine::kFibers) {
    s->SwitchFibers(self, s->PickNextLocked(), false);
  } else {
    std::unique_lock lock(s->mu_);
    s->HandOffLocked(lock, self, s->PickNextLocked());
  }
  s->last_ = self;
  s->outcome_.step_threads.push_back(self);
  ++s->access_count_[self];
}

void DeterministicScheduler::AfterAccess(const char* what, std::uint64_t before,
                                         std::uint64_t after, bool succeeded) {
  DeterministicScheduler* s = current_scheduler;
  // Only the baton holder runs, and the baton passes through mu_ (threads) or a switch on one
  // OS thread (fibers), so no lock is needed.
  if (s == nullptr || !s->record_accesses_ || unscheduled_depth_ != 0) return;
  s->accesses_.push_back({current_thread, what, before, after, succeeded});
}

void DeterministicScheduler::BlockOn(const void* object) {
  DeterministicScheduler* s = current_scheduler;
  if (s == nullptr || unscheduled_depth_ != 0) {
    std::this_thread::yield();
    return;
  }
  const int self = current_thread;
  if (s->engine_ == SchedulerEngine::kFibers) {
    s->blocked_on_[self] = object;
    s->SwitchFibers(self, s->PickNextLocked(), false);
  } else {
    std::unique_lock lock(s->mu_);
    s->blocked_on_[self] = object;
    s->HandOffLocked(lock, self, s->PickNextLocked());
  }
}

void DeterministicScheduler::WakeAll(const void* object) {
  DeterministicScheduler* s = current_scheduler;
  if (s == nullptr) return;
  for (const void*& waiting_on : s->blocked_on_) {
    if (waiting_on == object) waiting_on = nullptr;
  }
}

int DeterministicScheduler::CurrentThread() { return current_thread; }

std::size_t DeterministicScheduler::AccessesByCurrentThread() {
  DeterministicScheduler* s = current_scheduler;
  return s == nullptr ? 0 : s->access_count_[current_thread];
}

}  // namespace pinsplit
