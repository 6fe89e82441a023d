// SPDX-License-Identifier: MIT
// The false "maybe pinned", measured on the kernel: how many extra ordinary references on an
// exclusive page make fork copy it, in a process that has pinned before (MMF_HAS_PINNED).
//
// Each trial is a fresh run: spawn A; map 0..1; write 0; pin page 1 through io_uring and unpin
// it (A has now pinned); N vmsplice references on page 0 (one pipe); fork A B; did B get a copy
// of page 0? Fork copies an exclusive anon page only when folio_maybe_dma_pinned() says yes,
// which for a small folio is page_count >= GUP_PIN_COUNTING_BIAS (1024): references look like a
// pin. A binary search finds an N that copies where N-1 shared; then N-3 .. N+2 run kRepeats
// times each, since the count also holds transient references (one search is one sample); a
// control run with N = max and no earlier pin must share. The same trial runs on the model under
// anon-exclusive (BiasRefcount, its prediction) and under split (the exact word).
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "host_session.h"

namespace pinsplit::host {

struct FalsePinResult {
  static constexpr int kRepeats = 5;
  struct Edge {
    std::uint32_t refs;
    int copies, runs;
  };
  std::uint32_t max_refs = 0;
  // The smallest count from which every repeated run near the edge copied; nullopt: never
  // copied up to max_refs (or no count near the edge copied every time).
  std::optional<std::uint32_t> host_copy_threshold;
  std::optional<std::uint32_t>
      host_first_copy;     // the smallest count near the edge that ever copied
  std::vector<Edge> edge;  // counts around the search's answer, kRepeats runs each
  std::optional<std::uint32_t> bias_model_threshold;
  std::optional<std::uint32_t> split_model_threshold;
  bool host_control_copied = false;  // without an earlier pin, at max_refs (must be false)
  std::vector<std::pair<std::uint32_t, bool>> host_trials;  // (N, copied), in run order
};

// Smallest N <= max_refs at which fork copies, on each side.
absl::StatusOr<FalsePinResult> MeasureFalsePin(const HostOptions& options, std::uint32_t max_refs,
                                               std::ostream* progress);

// {"host_copy_threshold": n|null, "bias_model_threshold": n|null, "split": "never"|n, ...}
std::string FalsePinJson(const FalsePinResult& result);

}  // namespace pinsplit::host
