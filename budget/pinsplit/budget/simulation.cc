// SPDX-License-Identifier: MIT
#include "pinsplit/budget/simulation.h"

#include <optional>

#include "absl/strings/str_cat.h"
#include "pinsplit/bias_refcount.h"
#include "pinsplit/budget/erlang.h"
#include "pinsplit/budget/simulator.h"
#include "pinsplit/split_refcount.h"

namespace pinsplit::budget {

bool SimEstimate::Contains(double log10_p) const {
  const double p_analytic = FromLog10(log10_p);
  return p_analytic >= low() && p_analytic <= high();
}

absl::StatusOr<SimResult> Simulate(const Workload& workload, const LayoutSpec& layout,
                                   const SimOptions& options) {
  if (options.batches < 2 || options.batches > 31) {
    return absl::InvalidArgumentError("the simulation takes 2 to 31 batches");
  }
  if (layout.bias) return SimulateOn<BiasRefcount<>>(workload, layout, options);
  std::optional<absl::StatusOr<SimResult>> out;
  auto try_layout = [&]<class L>() {
    if (!out && SpecOf<L>() == layout)
      out = SimulateOn<SplitRefcount<L>>(workload, layout, options);
  };
  [&]<class... L>(std::tuple<L...>*) {
    (try_layout.template operator()<L>(), ...);
  }(static_cast<SimulatedLayouts*>(nullptr));
  if (!out) {
    return absl::InvalidArgumentError(
        absl::StrCat("layout ", layout.Name(), " is not in the simulated sample"));
  }
  return *std::move(out);
}

bool Agrees(const SimResult& sim, const LayoutResult& analytic) {
  bool ok = sim.read.Contains(analytic.read_refusal_log10) &&
            sim.write.Contains(analytic.write_refusal_log10) &&
            sim.ordinary.Contains(analytic.ordinary_saturation_log10);
  if (sim.false_maybe_pinned && analytic.false_maybe_pinned_log10) {
    ok = ok && sim.false_maybe_pinned->Contains(*analytic.false_maybe_pinned_log10);
  }
  return ok;
}

}  // namespace pinsplit::budget
