// SPDX-License-Identifier: MIT
// mm-level benchmarks: what each policy's decisions cost per page.
//
//   BM_ForkPerPage/<policy>/uncontended   fork a process with kPages mapped pages (a quarter of
//                                         them pinned) and exit the child: items = pages forked
//   BM_CowFault/<policy>/uncontended      after a fork, the parent writes every page (a write
//                                         fault each, reuse or copy as the policy says)
//   BM_StormOps/<policy>/contended        threads map, write, fork, pin and unpin on one shared
//                                         model: items = model operations
//
// The "plain" twin of each is the mapcount policy on PlainRefcount: the model's own cost with the
// cheapest counter and a policy that never looks at pins, so ratio_to_plain is what a policy's
// bookkeeping adds. The omniscient ideal policy runs only sequentially and is left out.
#include <memory>
#include <mutex>
#include <string>

#include "bench_suite.h"
#include "pinsplit/mm/mm_model.h"

namespace pinsplit::bench {
namespace {

using mm::MmModel;
using mm::MmOptions;
using mm::ProcessId;

constexpr mm::Addr kPages = 32;

struct PolicyUnderTest {
  const char* scheme;  // the benchmark name's scheme part
  const char* policy;
  const char* counter;  // empty: the policy's own
};

constexpr PolicyUnderTest kPolicies[] = {
    {"plain", "mapcount", "plain"}, {"mapcount", "mapcount", ""},
    {"refcount", "refcount", ""},   {"anon-exclusive", "anon-exclusive", ""},
    {"split", "split", ""},
};

std::unique_ptr<MmModel> MakeModel(const PolicyUnderTest& p, std::uint32_t max_pages) {
  MmOptions options;
  options.policy = p.policy;
  options.impl = p.counter;
  options.max_pages = max_pages;
  absl::StatusOr<std::unique_ptr<MmModel>> model = MmModel::Create(options);
  return model.ok() ? *std::move(model) : nullptr;
}

// A process with kPages pages, every fourth one pinned for write (long-term), so that policies
// that copy pinned pages at fork do so.
ProcessId MakeParent(MmModel& model) {
  const ProcessId parent = *model.spawn();
  (void)model.map(parent, 0, kPages - 1);
  for (mm::Addr a = 0; a < kPages; a += 4) {
    (void)model.pin(parent, a, PinKind::kWrite, /*longterm=*/true, /*fast=*/false);
  }
  return parent;
}

void ForkPerPage(benchmark::State& state, PolicyUnderTest p) {
  std::unique_ptr<MmModel> model = MakeModel(p, 4 * kPages);
  if (model == nullptr) return state.SkipWithError("cannot build the model");
  const ProcessId parent = MakeParent(*model);
  for (auto _ : state) {
    absl::StatusOr<ProcessId> child = model->fork(parent);
    if (!child.ok()) return state.SkipWithError("fork failed");
    (void)model->exit(*child);
  }
  state.SetItemsProcessed(state.iterations() * kPages);
}

void CowFault(benchmark::State& state, PolicyUnderTest p) {
  std::unique_ptr<MmModel> model = MakeModel(p, 4 * kPages);
  if (model == nullptr) return state.SkipWithError("cannot build the model");
  const ProcessId parent = MakeParent(*model);
  std::uint64_t value = 1;
  for (auto _ : state) {
    state.PauseTiming();
    absl::StatusOr<ProcessId> child = model->fork(parent);
    if (!child.ok()) return state.SkipWithError("fork failed");
    state.ResumeTiming();
    for (mm::Addr a = 0; a < kPages; ++a) (void)model->write(parent, a, ++value);
    state.PauseTiming();
    (void)model->exit(*child);
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * kPages);
}

// One model shared by the threads of a run; thread 0 builds it between runs.
struct SharedModel {
  std::mutex mu;
  std::unique_ptr<MmModel> model;
  int users = 0;
};

void StormOps(benchmark::State& state, PolicyUnderTest p, SharedModel* shared) {
  {
    std::lock_guard lock(shared->mu);
    if (shared->users++ == 0) shared->model = MakeModel(p, 1 << 12);
  }
  MmModel& model = *shared->model;
  const ProcessId me = *model.spawn();
  (void)model.map(me, 0, 7);
  std::uint64_t ops = 0;
  std::uint64_t value = static_cast<std::uint64_t>(state.thread_index()) << 40;
  for (auto _ : state) {
    for (mm::Addr a = 0; a < 8; ++a) (void)model.write(me, a, ++value);
    absl::StatusOr<mm::PinOutcome> pin = model.pin(me, 1, PinKind::kRead, false, true);
    absl::StatusOr<ProcessId> child = model.fork(me);
    if (child.ok()) {
      (void)model.write(*child, 2, ++value);
      (void)model.exit(*child);
    }
    if (pin.ok() && pin->result == PinResult::kPinned) (void)model.unpin(pin->id);
    ops += 13;
  }
  (void)model.exit(me);
  state.SetItemsProcessed(static_cast<std::int64_t>(ops));
  LabelOversubscription(state);
  std::lock_guard lock(shared->mu);
  if (--shared->users == 0) shared->model.reset();
}

void RegisterMmBenchmarks() {
  for (const PolicyUnderTest& p : kPolicies) {
    benchmark::RegisterBenchmark(BenchName("ForkPerPage", p.scheme, "uncontended").c_str(),
                                 ForkPerPage, p);
    benchmark::RegisterBenchmark(BenchName("CowFault", p.scheme, "uncontended").c_str(), CowFault,
                                 p);
  }
  for (int threads : BenchThreadCounts()) {
    for (const PolicyUnderTest& p : kPolicies) {
      auto shared = std::make_shared<SharedModel>();  // lives as long as the benchmark
      RegisterAtThreads(BenchName("StormOps", p.scheme, "contended"), threads,
                        [p, shared](benchmark::State& state) { StormOps(state, p, shared.get()); });
    }
  }
}

}  // namespace

PINSPLIT_BENCH_SUITE(RegisterMmBenchmarks);

}  // namespace pinsplit::bench
