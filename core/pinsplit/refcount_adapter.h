// SPDX-License-Identifier: MIT
// RefcountAdapter<C>: any PinRefcount behind the AnyRefcount interface.
//
// The run-time registry (any_refcount.cc) wraps the std::atomic counters with it, and the
// interleaving explorer wraps the same counters built on its DeterministicAtomic; one adapter
// serves both, so the two can never disagree on what a counter answers.
#pragma once

#include <cstdint>

#include "pinsplit/any_refcount.h"
#include "pinsplit/refcount.h"

namespace pinsplit {

// The largest value each of C's fields can hold.
template <class C>
RefcountLimits LimitsOf() {
  if constexpr (C::kCapabilities.pin_kinds) {
    return {C::kMaxRefs, C::kMaxReadPins, C::kMaxWritePins};
  } else if constexpr (C::kCapabilities.refuses_overflow) {  // bias: one signed count
    return {C::kMaxCount, C::kMaxCount / C::kPinBias, C::kMaxCount / C::kPinBias};
  } else {
    return {UINT32_MAX, UINT32_MAX, UINT32_MAX};
  }
}

// Forwards every operation, unchanged, to a C it owns.
template <PinRefcount C>
class RefcountAdapter final : public AnyRefcount {
 public:
  explicit RefcountAdapter(std::uint32_t refs) : counter_(refs) {}

  std::string_view name() const override { return C::name(); }
  Capabilities capabilities() const override { return C::kCapabilities; }
  RefcountLimits limits() const override { return LimitsOf<C>(); }
  GetResult get() override { return counter_.get(); }
  GetResult try_get() override { return counter_.try_get(); }
  PutResult put() override { return counter_.put(); }
  PinResult try_pin(PinKind kind) override { return counter_.try_pin(kind); }
  PutResult unpin(PinKind kind) override { return counter_.unpin(kind); }
  RefcountState state() const override { return counter_.state(); }
  bool is_pinned() const override { return counter_.is_pinned(); }
  bool is_pinned_writable() const override { return counter_.is_pinned_writable(); }
  bool saturated() const override { return counter_.saturated(); }
  bool dead() const override { return counter_.dead(); }
  bool reset(std::uint32_t refs, std::uint32_t read_pins, std::uint32_t write_pins,
             bool saturated) override {
    return counter_.reset(refs, read_pins, write_pins, saturated);
  }

 private:
  C counter_;
};

}  // namespace pinsplit
