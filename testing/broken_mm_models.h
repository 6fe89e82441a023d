// SPDX-License-Identifier: MIT
// The deliberately broken builds of the mm model, for proof of teeth: each is the production
// code (core/pinsplit/mm/mm_model.h) with one flaw that NARROWS a window GUP-fast races in,
// rather than removing a check (broken_refcounts.h does the same for the counters):
//   RecheckBeforePin   GUP-fast rechecks write_protect_seq before it takes its pin rather than
//                      after (the pin lands after the last look at the sequence);
//   LateForkBump       fork makes write_protect_seq odd only after it has copied the first
//                      present entry (that entry's copy is unbracketed);
//   MapcountFastPin    split's GUP-fast licensed by mapcount == 1 alone, as it was before the mm
//                      explorer found that a COW fault in the same process can copy the page
//                      away after the pin (other policies unchanged);
//   ForkSeqStore       fork makes write_protect_seq odd (and even again) with a plain store and a
//                      release fence, as a seqcount writer might, instead of an RMW and a full
//                      fence: the odd value can sit in fork's store buffer while fork reads the
//                      page's pins (only a store-buffer or weak explorer can show it);
//   NoFenceAfterPin    GUP-fast without the full fence between its pin (an acquire
//                      compare-exchange) and its recheck: harmless on x86, where the locked
//                      instruction is a full barrier, a bug in C++ and on ARM (only the weak
//                      explorer can show it).
//   OddOnlyRecheck     GUP-fast's recheck after the pin asks "is a fork running now" (is the
//                      sequence odd) instead of "did the sequence move": a whole fork inside the
//                      window, on an entry already write-protected (mprotect), goes unseen.
// The model's own option check_write_protect_seq = false (removing the recheck) is the fourth.
//
// Each flaw is a Sync type (a tag deriving from the Sync it runs on) for which one or two
// members of BasicMmModel are explicitly specialised, so core/ carries no trace of them. They
// exist on two Syncs: the deterministic one (deterministic_mm_model.h: the explorer finds them
// in a fixed number of schedules) and StdSync (the storm, on real threads, catches them only when
// the OS happens to preempt inside the window). C++ has no partial specialisation of a member
// function, so the definitions (broken_mm_models.inc) are included once per Sync, and
// PINSPLIT_DECLARE_BROKEN_MM_MODELS declares them for one Sync.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "pinsplit/mm/mm_model.h"
#include "pinsplit/mm/std_sync.h"
#include "pinsplit/mm/truth_oracle.h"

namespace pinsplit {

template <class Base>
struct RecheckBeforePin : Base {};
template <class Base>
struct LateForkBump : Base {};
template <class Base>
struct MapcountFastPin : Base {};
template <class Base>
struct ForkSeqStore : Base {};
template <class Base>
struct NoFenceAfterPin : Base {};
template <class Base>
struct OddOnlyRecheck : Base {};

// Which build of the model runs: the correct one or a deliberately broken one.
enum class MmModelVariant : std::uint8_t {
  kCorrect,
  kNoSeqRecheck,      // MmOptions::check_write_protect_seq = false
  kRecheckBeforePin,  // RecheckBeforePin<Sync>
  kLateForkBump,      // LateForkBump<Sync>
  kMapcountFastPin,   // MapcountFastPin<Sync>
  kForkSeqStore,      // ForkSeqStore<Sync>
  kNoFenceAfterPin,   // NoFenceAfterPin<Sync>
  kOddOnlyRecheck,    // OddOnlyRecheck<Sync>
};
inline constexpr MmModelVariant kMmModelVariants[] = {
    MmModelVariant::kCorrect,          MmModelVariant::kNoSeqRecheck,
    MmModelVariant::kRecheckBeforePin, MmModelVariant::kLateForkBump,
    MmModelVariant::kMapcountFastPin,  MmModelVariant::kForkSeqStore,
    MmModelVariant::kNoFenceAfterPin,  MmModelVariant::kOddOnlyRecheck};
std::string_view VariantName(MmModelVariant v);
std::string KnownVariantNames();  // "correct, broken:no-seq-recheck, ...", for error messages
absl::StatusOr<MmModelVariant> ParseVariant(std::string_view name);

// Calls f.template operator()<S>(options) with S the Sync that builds `variant` on `Base` and
// options adjusted (kNoSeqRecheck is the correct model with the recheck off); returns its result.
template <class Base, class F>
auto WithVariantSync(MmModelVariant variant, mm::MmOptions options, F&& f) {
  switch (variant) {
    case MmModelVariant::kNoSeqRecheck:
      options.check_write_protect_seq = false;
      break;
    case MmModelVariant::kRecheckBeforePin:
      return f.template operator()<RecheckBeforePin<Base>>(options);
    case MmModelVariant::kLateForkBump:
      return f.template operator()<LateForkBump<Base>>(options);
    case MmModelVariant::kMapcountFastPin:
      return f.template operator()<MapcountFastPin<Base>>(options);
    case MmModelVariant::kForkSeqStore:
      return f.template operator()<ForkSeqStore<Base>>(options);
    case MmModelVariant::kNoFenceAfterPin:
      return f.template operator()<NoFenceAfterPin<Base>>(options);
    case MmModelVariant::kOddOnlyRecheck:
      return f.template operator()<OddOnlyRecheck<Base>>(options);
    case MmModelVariant::kCorrect:
      break;
  }
  return f.template operator()<Base>(options);
}

}  // namespace pinsplit

// The broken members for BASE's variants, declared before any instantiation (their definitions:
// broken_mm_models.inc, included with PINSPLIT_BROKEN_MM_BASE defined as BASE). BASE is a type
// in template arguments, where parentheses would not parse.
// NOLINTBEGIN(bugprone-macro-parentheses)
#define PINSPLIT_DECLARE_BROKEN_MM_MODELS(BASE)                                                   \
  namespace pinsplit::mm {                                                                        \
  template <>                                                                                     \
  PinOutcome BasicMmModel<RecheckBeforePin<BASE>>::pin_fast(PinId id, ProcessId p, Addr addr,     \
                                                            PinKind kind, bool longterm);         \
  template <>                                                                                     \
  bool BasicMmModel<MapcountFastPin<BASE>>::fast_pin_allowed(PageId page, ProcessId p,            \
                                                             PinKind kind) const;                 \
  template <>                                                                                     \
  absl::StatusOr<ProcessId> BasicMmModel<LateForkBump<BASE>>::fork(ProcessId parent);             \
  template <>                                                                                     \
  absl::Status BasicMmModel<LateForkBump<BASE>>::copy_page_table(Process& from, ProcessId parent, \
                                                                 Process& to, ProcessId child);   \
  template <>                                                                                     \
  absl::StatusOr<ProcessId> BasicMmModel<ForkSeqStore<BASE>>::fork(ProcessId parent);             \
  template <>                                                                                     \
  PinOutcome BasicMmModel<NoFenceAfterPin<BASE>>::pin_fast(PinId id, ProcessId p, Addr addr,      \
                                                           PinKind kind, bool longterm);          \
  extern template class BasicMmModel<RecheckBeforePin<BASE>>;                                     \
  extern template class BasicTruthOracle<BasicMmModel<RecheckBeforePin<BASE>>>;                   \
  extern template class BasicMmModel<LateForkBump<BASE>>;                                         \
  extern template class BasicTruthOracle<BasicMmModel<LateForkBump<BASE>>>;                       \
  extern template class BasicMmModel<MapcountFastPin<BASE>>;                                      \
  extern template class BasicTruthOracle<BasicMmModel<MapcountFastPin<BASE>>>;                    \
  extern template class BasicMmModel<ForkSeqStore<BASE>>;                                         \
  extern template class BasicTruthOracle<BasicMmModel<ForkSeqStore<BASE>>>;                       \
  extern template class BasicMmModel<NoFenceAfterPin<BASE>>;                                      \
  extern template class BasicTruthOracle<BasicMmModel<NoFenceAfterPin<BASE>>>;                    \
  template <>                                                                                     \
  PinOutcome BasicMmModel<OddOnlyRecheck<BASE>>::pin_fast(PinId id, ProcessId p, Addr addr,       \
                                                          PinKind kind, bool longterm);           \
  extern template class BasicMmModel<OddOnlyRecheck<BASE>>;                                       \
  extern template class BasicTruthOracle<BasicMmModel<OddOnlyRecheck<BASE>>>;                     \
  }
// NOLINTEND(bugprone-macro-parentheses)

PINSPLIT_DECLARE_BROKEN_MM_MODELS(::pinsplit::mm::StdSync)
