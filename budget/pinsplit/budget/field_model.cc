// SPDX-License-Identifier: MIT
#include "pinsplit/budget/field_model.h"

#include <cmath>
#include <limits>

#include "pinsplit/budget/erlang.h"

namespace pinsplit::budget {
namespace {

constexpr double kMinusInf = -std::numeric_limits<double>::infinity();
constexpr double kLn10 = 2.302585092994045684;

void Add(FieldDemand& field, const HolderClass& c) {
  field.fixed += c.FixedHolders();
  if (c.finite()) {
    field.finite.push_back(
        {static_cast<std::uint64_t>(c.Sources()), c.rate.value, c.rate.value * c.hold_mean.value});
    return;
  }
  field.load += c.OfferedLoad();
  field.rate += c.ArrivalRate();
}

bool HasFiniteSources(const FieldDemand& demand) {
  for (const FiniteSourceClass& c : demand.finite) {
    if (c.sources > 0 && c.rate > 0) return true;
  }
  return false;
}

}  // namespace

WorkloadDemand DemandOf(const Workload& workload) {
  WorkloadDemand demand;
  demand.ordinary.fixed = 1;  // the owner's reference
  for (const HolderClass& c : workload.classes) {
    switch (c.kind) {
      case ClassKind::kReadPin:
        Add(demand.read, c);
        break;
      case ClassKind::kWritePin:
        Add(demand.write, c);
        break;
      case ClassKind::kOrdinary:
        Add(demand.ordinary, c);
        break;
    }
  }
  return demand;
}

double Log10FieldRefusal(double capacity, const FieldDemand& demand, const RetryPolicy& retry) {
  if (demand.fixed > capacity) return 0.0;
  const auto servers = static_cast<std::uint64_t>(capacity - demand.fixed);
  if (HasFiniteSources(demand)) {
    return Log10MixedLoss(servers, demand.load, demand.rate, demand.finite);
  }
  if (demand.load <= 0) return kMinusInf;
  if (!retry.enabled) return Log10ErlangB(servers, demand.load);
  double offered = demand.load;
  double log10_b = Log10ErlangB(servers, offered);
  for (int iteration = 0; iteration < 100; ++iteration) {
    const double b = FromLog10(log10_b);
    double factor = 0, power = 1;
    for (int i = 0; i <= retry.retries; ++i, power *= b) factor += power;
    const double next = demand.load * factor;
    if (std::abs(next - offered) <= 1e-12 * offered) break;
    offered = next;
    log10_b = Log10ErlangB(servers, offered);
  }
  return log10_b * (retry.retries + 1);
}

LayoutResult Analyze(const WorkloadDemand& demand, const LayoutSpec& layout,
                     const RetryPolicy& retry, double target) {
  LayoutResult r;
  r.layout = layout;
  if (!layout.bias) {
    r.read_refusal_log10 =
        Log10FieldRefusal(static_cast<double>(layout.ReadCapacity()), demand.read, retry);
    r.write_refusal_log10 =
        Log10FieldRefusal(static_cast<double>(layout.WriteCapacity()), demand.write, retry);
    r.ordinary_saturation_log10 = Log10FieldRefusal(static_cast<double>(layout.OrdinaryCapacity()),
                                                    demand.ordinary, RetryPolicy{});
  } else {
    const double max = static_cast<double>(kBiasMaxCount);
    const double weight = static_cast<double>(kBiasPinWeight);
    FieldDemand pins;
    pins.fixed = demand.read.fixed + demand.write.fixed;
    pins.load = demand.read.load + demand.write.load;
    pins.rate = demand.read.rate + demand.write.rate;
    pins.finite = demand.read.finite;
    pins.finite.insert(pins.finite.end(), demand.write.finite.begin(), demand.write.finite.end());
    const double pin_capacity =
        demand.ordinary.fixed > max ? 0 : std::floor((max - demand.ordinary.fixed) / weight);
    r.read_refusal_log10 = r.write_refusal_log10 = Log10FieldRefusal(pin_capacity, pins, retry);
    const double ref_capacity = std::max(0.0, max - weight * pins.fixed);
    r.ordinary_saturation_log10 = Log10FieldRefusal(ref_capacity, demand.ordinary, RetryPolicy{});
    double log10_no_pin = pins.fixed > 0 ? kMinusInf : -pins.load / kLn10;
    for (const FiniteSourceClass& c : pins.finite) {
      log10_no_pin -= static_cast<double>(c.sources) * std::log10(1 + c.beta);
    }
    const double log10_refs =
        demand.ordinary.fixed >= weight
            ? 0.0
            : Log10PoissonTail(static_cast<std::uint64_t>(weight - demand.ordinary.fixed),
                               demand.ordinary.load);
    r.false_maybe_pinned_log10 = log10_no_pin + log10_refs;
  }
  const double log10_target = std::log10(target);
  r.meets_target = r.read_refusal_log10 <= log10_target && r.write_refusal_log10 <= log10_target &&
                   r.ordinary_saturation_log10 <= log10_target;
  return r;
}

}  // namespace pinsplit::budget
