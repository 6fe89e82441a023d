#include "deterministic_refcounts.h"

#include <functional>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "broken_refcounts.h"
#include "deterministic_atomic.h"
#include "pinsplit/bias_refcount.h"
#include "pinsplit/plain_refcount.h"
#include "pinsplit/split_refcount.h"

namespace pinsplit {
namespace {

template <class C>
RefcountLimits LimitsOf() {
  if constexpr (C::kCapabilities.pin_kinds) {
    return {C::kMaxRefs, C::kMaxReadPins, C::kMaxWritePins};
  } else if constexpr (C::kCapabilities.refuses_overflow) {
    return {C::kMaxCount, C::kMaxCount / C::kPinBias, C::kMaxCount / C::kPinBias};
  } else {
    return {UINT32_MAX, UINT32_MAX, UINT32_MAX};
  }
}

// The same adapter as the core registry's, over a DeterministicAtomic instantiation.
template <PinRefcount C>
class DeterministicAdapter final : public AnyRefcount {
 public:
  explicit DeterministicAdapter(std::uint32_t refs) : counter_(refs) {}

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

using Factory = std::function<std::unique_ptr<AnyRefcount>(std::uint32_t)>;

template <class C>
std::pair<std::string, Factory> Entry() {
  return {std::string(C::name()),
          [](std::uint32_t refs) { return std::make_unique<DeterministicAdapter<C>>(refs); }};
}

template <class Layout>
using DetSplit = SplitRefcount<Layout, DeterministicAtomic>;

const std::vector<std::pair<std::string, Factory>>& CorrectRegistry() {
  static const auto* registry = new std::vector<std::pair<std::string, Factory>>{
      Entry<DetSplit<SeedLayout>>(),
      Entry<DetSplit<SplitLayout<3, 5, 24>>>(),
      Entry<DetSplit<SplitLayout<2, 6, 24>>>(),
      Entry<DetSplit<SplitLayout<6, 6, 20>>>(),
      Entry<DetSplit<SplitLayout<8, 8, 16>>>(),
      Entry<DetSplit<SplitLayout<10, 10, 12>>>(),
      Entry<BiasRefcount<DeterministicAtomic>>(),
      Entry<PlainRefcount<DeterministicAtomic>>(),
  };
  return *registry;
}

const std::vector<std::pair<std::string, Factory>>& BrokenRegistry() {
  static const auto* registry = new std::vector<std::pair<std::string, Factory>>{
      Entry<RereadingPutSplitRefcount<SeedLayout, DeterministicAtomic>>(),
      Entry<RelaxedLastPutSplitRefcount<SeedLayout, DeterministicAtomic>>(),
  };
  return *registry;
}

}  // namespace

std::vector<std::string> CorrectRefcountNames() {
  std::vector<std::string> names;
  for (const auto& [name, factory] : CorrectRegistry()) names.push_back(name);
  return names;
}

std::vector<std::string> BrokenRefcountNames() {
  std::vector<std::string> names;
  for (const auto& [name, factory] : BrokenRegistry()) names.push_back(name);
  return names;
}

absl::StatusOr<std::unique_ptr<AnyRefcount>> MakeDeterministicRefcount(std::string_view name,
                                                                       std::uint32_t refs) {
  const std::string_view wanted = name == "split" ? SplitRefcount<>::name() : name;
  for (const auto* registry : {&CorrectRegistry(), &BrokenRegistry()}) {
    for (const auto& [known, factory] : *registry) {
      if (known == wanted) return factory(refs);
    }
  }
  std::vector<std::string> all = {"split"};
  for (const std::string& n : CorrectRefcountNames()) all.push_back(n);
  for (const std::string& n : BrokenRefcountNames()) all.push_back(n);
  return absl::InvalidArgumentError(
      absl::StrCat("unknown counter '", std::string(name), "'; known: ", absl::StrJoin(all, ", ")));
}

}  // namespace pinsplit
