#include "pinsplit/any_refcount.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "pinsplit/refcount_registry.h"

namespace pinsplit {
namespace {

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
  bool reset(std::uint32_t refs, std::uint32_t read_pins, std::uint32_t write_pins,
             bool saturated) override {
    return counter_.reset(refs, read_pins, write_pins, saturated);
  }

 private:
  C counter_;
};

}  // namespace

std::vector<std::string> KnownRefcounts() { return RegisteredRefcountNames(); }

absl::StatusOr<std::unique_ptr<AnyRefcount>> MakeRefcount(std::string_view impl,
                                                          std::uint32_t refs) {
  std::unique_ptr<AnyRefcount> counter;
  VisitRefcountType(impl, [&]<class C>() { counter = std::make_unique<RefcountAdapter<C>>(refs); });
  if (counter != nullptr) return counter;
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown counter '", std::string(impl), "'; known: ", absl::StrJoin(KnownRefcounts(), ", ")));
}

}  // namespace pinsplit
