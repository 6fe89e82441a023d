// SPDX-License-Identifier: MIT
// The names of the mm model's builds (broken_mm_models.h), as --variant and --mm_variant take them.
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "broken_mm_models.h"
#include "pinsplit/script_lexer.h"

namespace pinsplit {

std::string_view VariantName(MmModelVariant v) {
  switch (v) {
    case MmModelVariant::kCorrect:
      return "correct";
    case MmModelVariant::kNoSeqRecheck:
      return "broken:no-seq-recheck";
    case MmModelVariant::kRecheckBeforePin:
      return "broken:recheck-before-pin";
    case MmModelVariant::kLateForkBump:
      return "broken:late-fork-bump";
    case MmModelVariant::kMapcountFastPin:
      return "broken:mapcount-fast-pin";
    case MmModelVariant::kForkSeqStore:
      return "broken:fork-seq-store";
    case MmModelVariant::kNoFenceAfterPin:
      return "broken:no-fence-after-pin";
    case MmModelVariant::kOddOnlyRecheck:
      return "broken:odd-only-recheck";
  }
  return "?";
}

std::string KnownVariantNames() {
  std::vector<std::string> names;
  for (MmModelVariant v : kMmModelVariants) names.emplace_back(VariantName(v));
  return absl::StrJoin(names, ", ");
}

absl::StatusOr<MmModelVariant> ParseVariant(std::string_view name) {
  for (MmModelVariant v : kMmModelVariants) {
    if (VariantName(v) == name) return v;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown model variant ", Quoted(std::string(name)), "; known: ", KnownVariantNames()));
}

}  // namespace pinsplit
