// SPDX-License-Identifier: MIT
// Per-operation and mixed-workload benchmarks of every counting scheme against PlainRefcount.
//
// Schemes: plain (the baseline), split (the seed layout 4/4/24), split_8_8_16 (a second layout),
// bias (GUP_PIN_COUNTING_BIAS) and cas_split (the seed layout with every operation a
// compare-exchange loop, the contender of bench/cas_split_refcount.h).
//
// Modes: "uncontended", each thread on its own counter on its own cache line; "contended", every
// thread on one counter. Each counter starts every run holding one reference (the base), so the
// measured operations never free it; uncontended runs check they end where they started.
//
// Throughput counts counter operations: a get/put pair is two items, a read one item. Pairs are
// measured together because a get without its put cannot be repeated millions of times without
// overflowing the small layouts; the single get and put benchmarks undo their batches with the
// timer paused.
//
// Order: for each operation, mode and thread count, every scheme runs right after its plain
// twin, so drift on a shared machine hits both alike.
//
// The hardware's own ratio. How much a fetch_add beats a compare-exchange loop on one contended
// word depends on the machine (cache-line transfer, retry cost), so the contended split-vs-
// cas_split target is stated against it: next to the contended get/put benchmarks run two raw
// pairs on one bare std::atomic<uint32_t>, "raw_fetch_add" (fetch_add then fetch_sub) and
// "raw_cas_loop" (each step a load and compare_exchange_weak retry loop), with no counter logic
// at all. bench/report.py divides split/cas_split by raw_fetch_add/raw_cas_loop.
#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "bench_suite.h"
#include "benchmark/benchmark.h"
#include "cas_split_refcount.h"
#include "pinsplit/bias_refcount.h"
#include "pinsplit/plain_refcount.h"
#include "pinsplit/split_refcount.h"

namespace pinsplit::bench {
namespace {

enum class Mode { kUncontended, kContended };

constexpr std::string_view ModeName(Mode mode) {
  return mode == Mode::kContended ? "contended" : "uncontended";
}

// One counter on a cache line of its own, so uncontended threads share nothing.
template <class Counter>
struct alignas(64) PaddedCounter {
  Counter counter{1};
};

// Slot 0 is the contended counter; slot 1 + i belongs to thread i in uncontended runs.
template <class Counter>
PaddedCounter<Counter>* CounterSlots() {
  static const std::unique_ptr<PaddedCounter<Counter>[]> slots(
      new PaddedCounter<Counter>[1 + BenchThreadCounts().back()]);
  return slots.get();
}

// Returns this thread's counter, holding exactly one reference. In contended runs thread 0
// resets the shared counter before the start barrier that Google Benchmark puts in front of the
// timed loop, so every thread sees the reset before its first operation.
template <class Counter>
Counter& PrepareCounter(benchmark::State& state, Mode mode) {
  PaddedCounter<Counter>* slots = CounterSlots<Counter>();
  Counter& counter =
      mode == Mode::kContended ? slots[0].counter : slots[1 + state.thread_index()].counter;
  if (mode == Mode::kUncontended || state.thread_index() == 0) counter.reset(1, 0, 0, false);
  return counter;
}

// In uncontended runs the thread owns its counter, so it must end holding just the base
// reference; anything else is a bug in the benchmark or the scheme, and the run is discarded.
template <class Counter>
void CheckEndState(benchmark::State& state, Mode mode, const Counter& counter) {
  if (mode != Mode::kUncontended) return;
  const RefcountState s = counter.state();
  if (s.refs != 1 || s.pins != 0 || s.dead || s.saturated) {
    state.SkipWithError("counter did not end holding exactly its base reference");
  }
}

// The batch a single get or put benchmark builds up or undoes with the timer paused: 256 per
// thread, fewer with many threads, so that all threads' batches together (at most 4096) stay far
// below split_8_8_16's 16383 references.
int BatchFor(const benchmark::State& state) { return std::clamp(4096 / state.threads(), 1, 256); }

template <class Counter>
void Get(benchmark::State& state, Counter& counter) {
  const int batch = BatchFor(state);
  int outstanding = 0;
  for (auto _ : state) {
    if (outstanding == batch) {
      state.PauseTiming();
      for (; outstanding > 0; --outstanding) benchmark::DoNotOptimize(counter.put());
      state.ResumeTiming();
    }
    benchmark::DoNotOptimize(counter.get());
    ++outstanding;
  }
  for (; outstanding > 0; --outstanding) counter.put();
  state.SetItemsProcessed(state.iterations());
}

template <class Counter>
void Put(benchmark::State& state, Counter& counter) {
  const int batch = BatchFor(state);
  int available = 0;
  for (auto _ : state) {
    if (available == 0) {
      state.PauseTiming();
      for (; available < batch; ++available) benchmark::DoNotOptimize(counter.get());
      state.ResumeTiming();
    }
    benchmark::DoNotOptimize(counter.put());
    --available;
  }
  for (; available > 0; --available) counter.put();
  state.SetItemsProcessed(state.iterations());
}

template <class Counter>
void GetPut(benchmark::State& state, Counter& counter) {
  for (auto _ : state) {
    benchmark::DoNotOptimize(counter.get());
    benchmark::DoNotOptimize(counter.put());
  }
  state.SetItemsProcessed(2 * state.iterations());
}

template <class Counter>
void TryGetPut(benchmark::State& state, Counter& counter) {
  for (auto _ : state) {
    if (counter.try_get() != GetResult::kOk) [[unlikely]] {
      state.SkipWithError("try_get refused a live counter");
      break;
    }
    benchmark::DoNotOptimize(counter.put());
  }
  state.SetItemsProcessed(2 * state.iterations());
}

// Pins, retrying while the pin field is full: with more threads than a field holds (15 in the
// seed layout) a contended pin can find it full, and a caller would wait for room.
template <class Counter>
bool PinWaitingForRoom(Counter& counter, PinKind kind) {
  for (;;) {
    switch (counter.try_pin(kind)) {
      case PinResult::kPinned:
        return true;
      case PinResult::kFull:
        continue;
      case PinResult::kDead:
        return false;
    }
  }
}

template <class Counter, PinKind kKind>
void PinUnpin(benchmark::State& state, Counter& counter) {
  for (auto _ : state) {
    if (!PinWaitingForRoom(counter, kKind)) [[unlikely]] {
      state.SkipWithError("try_pin found a live counter dead");
      break;
    }
    benchmark::DoNotOptimize(counter.unpin(kKind));
  }
  state.SetItemsProcessed(2 * state.iterations());
}

template <class Counter>
void ReadState(benchmark::State& state, Counter& counter) {
  for (auto _ : state) benchmark::DoNotOptimize(counter.state());
  state.SetItemsProcessed(state.iterations());
}

template <class Counter>
void ReadIsPinned(benchmark::State& state, Counter& counter) {
  for (auto _ : state) benchmark::DoNotOptimize(counter.is_pinned());
  state.SetItemsProcessed(state.iterations());
}

template <class Counter>
void ReadIsPinnedWritable(benchmark::State& state, Counter& counter) {
  for (auto _ : state) benchmark::DoNotOptimize(counter.is_pinned_writable());
  state.SetItemsProcessed(state.iterations());
}

// How pages are used, roughly: mostly references taken and dropped, some GUP pins (reads more
// often than writes), a few "is it pinned?" questions. One fixed 32-step cycle, the same for
// every scheme: 26 get/put pairs, 3 read pin pairs, 1 write pin pair, 2 reads.
enum class MixedStep : std::uint8_t { kGetPut, kPinRead, kPinWrite, kReadState, kIsPinned };

constexpr std::array<MixedStep, 32> kMixedCycle = [] {
  std::array<MixedStep, 32> cycle{};
  cycle.fill(MixedStep::kGetPut);
  cycle[5] = cycle[16] = cycle[27] = MixedStep::kPinRead;
  cycle[21] = MixedStep::kPinWrite;
  cycle[11] = MixedStep::kReadState;
  cycle[30] = MixedStep::kIsPinned;
  return cycle;
}();

template <class Counter>
void Mixed(benchmark::State& state, Counter& counter) {
  std::int64_t operations = 0;
  // Threads start at different points of the cycle so contended pins do not line up.
  std::size_t step = static_cast<std::size_t>(state.thread_index()) * 7;
  for (auto _ : state) {
    switch (kMixedCycle[step++ % kMixedCycle.size()]) {
      case MixedStep::kGetPut:
        benchmark::DoNotOptimize(counter.get());
        benchmark::DoNotOptimize(counter.put());
        operations += 2;
        break;
      case MixedStep::kPinRead:
        if (PinWaitingForRoom(counter, PinKind::kRead)) {
          benchmark::DoNotOptimize(counter.unpin(PinKind::kRead));
        }
        operations += 2;
        break;
      case MixedStep::kPinWrite:
        if (PinWaitingForRoom(counter, PinKind::kWrite)) {
          benchmark::DoNotOptimize(counter.unpin(PinKind::kWrite));
        }
        operations += 2;
        break;
      case MixedStep::kReadState:
        benchmark::DoNotOptimize(counter.state());
        operations += 1;
        break;
      case MixedStep::kIsPinned:
        benchmark::DoNotOptimize(counter.is_pinned_writable());
        operations += 1;
        break;
    }
  }
  state.SetItemsProcessed(operations);
}

// An operation's name in results (CamelCase here, snake_case after the post-processor) and its
// body for counter type C.
template <class C>
struct Operation {
  std::string_view name;
  void (*body)(benchmark::State&, C&);
};

template <class C>
constexpr auto kOperations = std::to_array<Operation<C>>({
    {"Get", &Get<C>},
    {"Put", &Put<C>},
    {"GetPut", &GetPut<C>},
    {"TryGetPut", &TryGetPut<C>},
    {"PinUnpinRead", &PinUnpin<C, PinKind::kRead>},
    {"PinUnpinWrite", &PinUnpin<C, PinKind::kWrite>},
    {"ReadState", &ReadState<C>},
    {"ReadIsPinned", &ReadIsPinned<C>},
    {"ReadIsPinnedWritable", &ReadIsPinnedWritable<C>},
    {"Mixed", &Mixed<C>},
});

template <class C>
void RegisterScheme(std::string_view scheme, std::size_t operation, Mode mode, int threads) {
  const Operation<C>& op = kOperations<C>[operation];
  RegisterAtThreads(BenchName(op.name, scheme, ModeName(mode)), threads,
                    [body = op.body, mode](benchmark::State& state) {
                      LabelOversubscription(state);
                      C& counter = PrepareCounter<C>(state, mode);
                      body(state, counter);
                      CheckEndState(state, mode, counter);
                    });
}

// One bare word on its own cache line, shared by every thread of a raw contended pair.
struct alignas(64) RawWord {
  std::atomic<std::uint32_t> value{1};
};

RawWord& SharedRawWord() {
  static RawWord word;
  return word;
}

// +1 then -1 with one read-modify-write each: what the split word's get and put cost at best.
void RawFetchAddPair(benchmark::State& state) {
  std::atomic<std::uint32_t>& word = SharedRawWord().value;
  for (auto _ : state) {
    benchmark::DoNotOptimize(word.fetch_add(1, std::memory_order_relaxed));
    benchmark::DoNotOptimize(word.fetch_sub(1, std::memory_order_release));
  }
  state.SetItemsProcessed(2 * state.iterations());
}

// The same +1 and -1, each a load and a compare-exchange retry loop: what any counter that
// decides before it writes pays at best.
void RawCasLoopPair(benchmark::State& state) {
  std::atomic<std::uint32_t>& word = SharedRawWord().value;
  for (auto _ : state) {
    std::uint32_t old = word.load(std::memory_order_relaxed);
    while (!word.compare_exchange_weak(old, old + 1, std::memory_order_relaxed)) {
    }
    benchmark::DoNotOptimize(old);
    old = word.load(std::memory_order_relaxed);
    while (!word.compare_exchange_weak(old, old - 1, std::memory_order_release,
                                       std::memory_order_relaxed)) {
    }
    benchmark::DoNotOptimize(old);
  }
  state.SetItemsProcessed(2 * state.iterations());
}

void RegisterRawPairs(int threads) {
  for (auto [scheme, body] :
       {std::pair{"raw_fetch_add", &RawFetchAddPair}, std::pair{"raw_cas_loop", &RawCasLoopPair}}) {
    RegisterAtThreads(BenchName("GetPut", scheme, ModeName(Mode::kContended)), threads,
                      [body = body](benchmark::State& state) {
                        LabelOversubscription(state);
                        body(state);
                      });
  }
}

void RegisterRefcountBenchmarks() {
  for (std::size_t operation = 0; operation < kOperations<PlainRefcount<>>.size(); ++operation) {
    for (Mode mode : {Mode::kUncontended, Mode::kContended}) {
      for (int threads : BenchThreadCounts()) {
        RegisterScheme<PlainRefcount<>>("plain", operation, mode, threads);
        RegisterScheme<SplitRefcount<SeedLayout>>("split", operation, mode, threads);
        RegisterScheme<SplitRefcount<SplitLayout<8, 8, 16>>>("split_8_8_16", operation, mode,
                                                             threads);
        RegisterScheme<BiasRefcount<>>("bias", operation, mode, threads);
        RegisterScheme<CasSplitRefcount<SeedLayout>>("cas_split", operation, mode, threads);
        if (kOperations<PlainRefcount<>>[operation].name == "GetPut" && mode == Mode::kContended) {
          RegisterRawPairs(threads);
        }
      }
    }
  }
}

PINSPLIT_BENCH_SUITE(RegisterRefcountBenchmarks);

}  // namespace
}  // namespace pinsplit::bench
