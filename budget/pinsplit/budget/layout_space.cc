// SPDX-License-Identifier: MIT
#include "pinsplit/budget/layout_space.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace pinsplit::budget {

std::string LayoutSpec::Name() const {
  if (bias) return "bias";
  return absl::StrCat(read_bits, "/", write_bits, "/", ordinary_bits);
}

std::vector<LayoutSpec> AllLayouts() {
  std::vector<LayoutSpec> out;
  for (unsigned r = 1; r <= 25; ++r) {
    for (unsigned w = 1; r + w <= 26; ++w) out.push_back({r, w, 32 - r - w, false});
  }
  out.push_back(kBiasLayout);
  return out;
}

absl::StatusOr<LayoutSpec> ParseLayout(absl::string_view text) {
  if (text == "bias") return kBiasLayout;
  const std::vector<absl::string_view> parts = absl::StrSplit(text, '/');
  unsigned bits[3];
  if (parts.size() != 3 || !absl::SimpleAtoi(parts[0], &bits[0]) ||
      !absl::SimpleAtoi(parts[1], &bits[1]) || !absl::SimpleAtoi(parts[2], &bits[2])) {
    return absl::InvalidArgumentError(
        absl::StrCat("layout '", text, "' is not R/W/O (e.g. 4/4/24) or bias"));
  }
  if (bits[0] + bits[1] + bits[2] != 32 || bits[0] < 1 || bits[1] < 1 || bits[2] < 6 ||
      bits[0] > 32 || bits[1] > 32 || bits[2] > 32) {
    return absl::InvalidArgumentError(
        absl::StrCat("layout '", text,
                     "' is not one SplitLayout accepts: READ and R/W bits at least 1, ordinary "
                     "bits at least 6, 32 in all"));
  }
  return LayoutSpec{bits[0], bits[1], bits[2], false};
}

std::vector<LayoutSpec> SimulatedLayoutSpecs() {
  std::vector<LayoutSpec> out;
  [&]<class... L>(std::tuple<L...>*) {
    (out.push_back(SpecOf<L>()), ...);
  }(static_cast<SimulatedLayouts*>(nullptr));
  out.push_back(kBiasLayout);
  return out;
}

}  // namespace pinsplit::budget
