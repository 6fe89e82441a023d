// SPDX-License-Identifier: MIT
// The layouts the bit budget compares: every R/W/O split of the 32-bit word that SplitLayout
// accepts (R >= 1, W >= 1, O >= 6, R + W + O = 32: 325 of them), and the kernel's bias scheme.
//
// The analytic model runs on LayoutSpec values at run time; the simulation drives real
// SplitRefcount<SplitLayout<R, W, O>> words, so the layouts it samples are a compile-time list
// (SimulatedLayouts) checked against the same rules by SplitLayout's static_asserts.
#pragma once

#include <cstdint>
#include <string>
#include <tuple>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "pinsplit/split_refcount.h"

namespace pinsplit::budget {

struct LayoutSpec {
  unsigned read_bits = 0;
  unsigned write_bits = 0;
  unsigned ordinary_bits = 0;
  bool bias = false;  // the kernel's GUP_PIN_COUNTING_BIAS count; the bit fields are unused

  // "R/W/O" or "bias".
  std::string Name() const;
  // Pins a field holds: 2^bits - 1.
  std::uint64_t ReadCapacity() const { return (std::uint64_t{1} << read_bits) - 1; }
  std::uint64_t WriteCapacity() const { return (std::uint64_t{1} << write_bits) - 1; }
  // Ordinary references before saturation: SplitRefcount's kMaxRefs, 2^(O-2) - 1.
  std::uint64_t OrdinaryCapacity() const { return (std::uint64_t{1} << (ordinary_bits - 2)) - 1; }

  friend bool operator==(const LayoutSpec&, const LayoutSpec&) = default;
};

inline constexpr LayoutSpec kSeedLayout{4, 4, 24, false};
inline constexpr LayoutSpec kBiasLayout{0, 0, 0, true};

// The bias scheme's numbers (BiasRefcount): a pin adds 1024; new pins and references are refused
// once the count would pass INT32_MAX; "maybe pinned" from 1024 on.
inline constexpr std::uint64_t kBiasPinWeight = 1024;
inline constexpr std::uint64_t kBiasMaxCount = 2147483647;

// Every split SplitLayout accepts, by READ bits then R/W bits, then bias.
std::vector<LayoutSpec> AllLayouts();

// "R/W/O" (each accepted by SplitLayout) or "bias"; "all" is not a layout.
absl::StatusOr<LayoutSpec> ParseLayout(absl::string_view text);

// The sample the simulation runs: small pin fields (where refusals are frequent enough to
// measure), the seed, the published alternatives (Hubbard's 8/8/16 and 4+4), a tiny ordinary
// field (where page-cache mappers saturate it). Bias is simulated separately.
using SimulatedLayouts =
    std::tuple<SplitLayout<1, 1, 30>, SplitLayout<2, 2, 28>, SplitLayout<3, 5, 24>, SeedLayout,
               SplitLayout<5, 3, 24>, SplitLayout<6, 6, 20>, SplitLayout<8, 8, 16>,
               SplitLayout<10, 10, 12>, SplitLayout<13, 13, 6>>;

template <class Layout>
constexpr LayoutSpec SpecOf() {
  return LayoutSpec{Layout::kReadBits, Layout::kWriteBits, Layout::kOrdinaryBits, false};
}

// The simulated sample as LayoutSpecs, bias last.
std::vector<LayoutSpec> SimulatedLayoutSpecs();

}  // namespace pinsplit::budget
