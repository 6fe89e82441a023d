// SPDX-License-Identifier: MIT
#include "linearizability.h"

#include <algorithm>
#include <cstdint>
#include <tuple>

#include "absl/container/flat_hash_set.h"
#include "absl/numeric/int128.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace pinsplit {
namespace {

// Sets of placed history entries, one bit each.
using PlacedSet = absl::uint128;

using StateKey = std::tuple<PlacedSet, std::uint32_t, std::uint32_t, std::uint32_t, std::uint32_t,
                            bool, bool, std::uint32_t>;

// The raw word is part of the key: bias counts above INT32_MAX decode alike but differ.
StateKey KeyOf(PlacedSet placed, const RefcountState& s) {
  return {placed, s.refs, s.read_pins, s.write_pins, s.pins, s.saturated, s.dead, s.raw};
}

// Overflow and saturated reports say the count left its range, which the counters answer by
// saturating; when they are reported at the saturation edge is racy by design (the windows of
// split_refcount.h), so they are left out. Every other kind cannot happen inside the contract
// and must match exactly.
bool IsSaturationReport(Misuse m) { return m == Misuse::kOverflow || m == Misuse::kSaturated; }

bool SameMisuse(const std::vector<Misuse>& got, const std::optional<Misuse>& want) {
  const bool expected = want && !IsSaturationReport(*want);
  std::size_t others = 0;  // reports other than saturation ones
  bool matched = false;
  for (Misuse m : got) {
    if (IsSaturationReport(m)) continue;
    ++others;
    matched = expected && m == *want;
  }
  return expected ? others == 1 && matched : others == 0;
}

// An overflowing get's fetch_add takes the word to the edge of SATURATED, and until its repair
// pulls it to the middle a racing put may bring it back into LIVE (split_refcount.h): a reading
// taken in that window may see "not saturated" where the model, which saturated at the get's
// linearization point, says saturated. Nothing else in the reading is affected.
bool InOverflowWindow(std::span<const HistoryOp> history, const HistoryOp& probe) {
  for (const HistoryOp& h : history) {
    const bool overflowed =
        std::find(h.misuse.begin(), h.misuse.end(), Misuse::kOverflow) != h.misuse.end();
    if (overflowed && h.first_step <= probe.first_step && probe.first_step <= h.last_step) {
      return true;
    }
  }
  return false;
}

// The search's tables. One set per thread serves every check the thread makes (an exhaustive
// exploration checks hundreds of thousands of histories): cleared in between, which keeps the
// vectors' storage and the hash set's while it is small (Abseil frees a large one on clear).
struct SearchTables {
  std::vector<PlacedSet> predecessors;
  std::vector<bool> may_read_unsaturated;  // a probe inside an overflowing get's window
  std::vector<std::size_t> order;
  std::vector<std::size_t> deepest;
  absl::flat_hash_set<StateKey> failed;

  void Reset(std::size_t n) {
    predecessors.assign(n, 0);
    may_read_unsaturated.assign(n, false);
    order.clear();
    deepest.clear();
    failed.clear();
  }
};

class Search {
 public:
  // With `explain`, the search keeps the longest prefix that matched, for Why(): a copy at every
  // new depth, which only a failed check pays for (it is searched again to explain itself).
  Search(std::span<const HistoryOp> history, const RefcountState& final_state, bool check_misuse,
         SearchTables& tables, bool explain)
      : history_(history),
        final_(final_state),
        check_misuse_(check_misuse),
        explain_(explain),
        tables_(tables) {
    const std::size_t n = history.size();
    tables.Reset(n);
    for (std::size_t b = 0; b < n; ++b) {
      tables_.may_read_unsaturated[b] = history[b].probe && InOverflowWindow(history, history[b]);
    }
    for (std::size_t b = 0; b < n; ++b) {
      for (std::size_t a = 0; a < n; ++a) {
        const bool before =
            history[a].last_step < history[b].first_step ||
            (history[a].thread == history[b].thread && history[a].sequence < history[b].sequence);
        if (before) tables_.predecessors[b] |= PlacedSet{1} << static_cast<int>(a);
      }
    }
  }

  bool Run(const RefcountModel& model, PlacedSet placed) {
    const std::size_t n = history_.size();
    if (explain_ && tables_.order.size() > tables_.deepest.size()) tables_.deepest = tables_.order;
    if (tables_.order.size() == n) {
      if (model.matches(final_)) return true;
      final_mismatch_ = true;
      return false;
    }
    if (tables_.failed.contains(KeyOf(placed, model.state()))) return false;
    // A probe changes nothing, so one that may go now and reads the current state goes now,
    // without branching: any valid order placing it later stays valid with it moved here (it
    // only ever precedes what comes after it). One that reads otherwise waits.
    for (std::size_t b = 0; b < n; ++b) {
      const PlacedSet bit = PlacedSet{1} << static_cast<int>(b);
      if (!history_[b].probe || (placed & bit) != 0 || (tables_.predecessors[b] & ~placed) != 0)
        continue;
      if (!ReadsAsModel(b, model)) continue;
      tables_.order.push_back(b);
      if (Run(model, placed | bit)) return true;
      tables_.order.pop_back();
      tables_.failed.insert(KeyOf(placed, model.state()));
      return false;
    }
    for (std::size_t b = 0; b < n; ++b) {
      const PlacedSet bit = PlacedSet{1} << static_cast<int>(b);
      if ((placed & bit) != 0 || (tables_.predecessors[b] & ~placed) != 0) continue;
      if (history_[b].probe) continue;  // waits for a state that reads as it did
      RefcountModel next = model;
      const std::string result = ApplyToModel(next, history_[b].op);
      if (result != history_[b].result) continue;
      if (check_misuse_ && !SameMisuse(history_[b].misuse, next.misuse())) continue;
      tables_.order.push_back(b);
      if (Run(next, placed | bit)) return true;
      tables_.order.pop_back();
    }
    tables_.failed.insert(KeyOf(placed, model.state()));
    return false;
  }

  const std::vector<std::size_t>& order() const { return tables_.order; }

  std::string Why() const {
    std::vector<std::string> prefix;
    for (std::size_t i : tables_.deepest) prefix.push_back(FormatHistoryOp(history_[i]));
    if (tables_.deepest.size() == history_.size() && final_mismatch_) {
      return absl::StrCat(
          "every order matching the results ends in a state other than the "
          "counter's; one such order: ",
          absl::StrJoin(prefix, "; "));
    }
    return absl::StrCat("no order of the ", history_.size(),
                        " operations matches the results; the longest matching prefix (",
                        tables_.deepest.size(),
                        ") is: ", prefix.empty() ? "(none)" : absl::StrJoin(prefix, "; "));
  }

 private:
  // Whether probe b reads what the model's predicates say now.
  bool ReadsAsModel(std::size_t b, const RefcountModel& model) const {
    PredicateReading want = ModelPredicates(model);
    if (tables_.may_read_unsaturated[b] && !history_[b].reading.state.saturated) {
      want.state.saturated = false;
    }
    return want == history_[b].reading;
  }

  std::span<const HistoryOp> history_;
  RefcountState final_;
  bool check_misuse_;
  bool explain_;
  SearchTables& tables_;  // this thread's, reset for this search
  bool final_mismatch_ = false;
};

}  // namespace

std::string ApplyToModel(RefcountModel& model, const CounterOp& op) {
  return ApplyCounterOp(model, op).value_or("?");
}

std::string FormatHistoryOp(const HistoryOp& op) {
  if (op.probe) {
    return absl::StrCat("T", op.thread, "#", op.index + 1, "' predicates after it => ",
                        Format(op.reading), " [step ", op.first_step + 1, "]");
  }
  CounterOp shown = op.op;
  shown.result = op.result;
  std::string out = absl::StrCat("T", op.thread, "#", op.index + 1, " ", Format(shown), " [steps ",
                                 op.first_step + 1, "..", op.last_step + 1, "]");
  for (Misuse m : op.misuse) absl::StrAppend(&out, " misuse: ", std::string(to_string(m)));
  return out;
}

LinearizabilityVerdict CheckLinearizable(std::span<const HistoryOp> history,
                                         const RefcountModel& initial,
                                         const RefcountState& final_state, bool check_misuse) {
  LinearizabilityVerdict verdict;
  if (history.size() > kMaxLinearizabilityOps) {
    verdict.why = absl::StrCat("more than ", kMaxLinearizabilityOps,
                               " operations: beyond the checker's limit (a caller's bug)");
    return verdict;
  }
  thread_local SearchTables tables;
  Search search(history, final_state, check_misuse, tables, /*explain=*/false);
  verdict.linearizable = search.Run(initial, 0);
  if (verdict.linearizable) {
    verdict.order = search.order();
    return verdict;
  }
  Search explained(history, final_state, check_misuse, tables, /*explain=*/true);
  explained.Run(initial, 0);
  verdict.why = explained.Why();
  return verdict;
}

}  // namespace pinsplit
