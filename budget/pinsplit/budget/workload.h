// SPDX-License-Identifier: MIT
// Workload: who holds one page, as a `.workload` file describes it (docs/budget.md).
//
// A workload is a list of classes. A pin class takes READ or R/W pins, short- or long-term; an
// ordinary class takes ordinary references. Each class has either a fixed count (registrations
// that stay: RDMA MRs, VFIO containers, io_uring rings, mappings) or a Poisson arrival process
// (rate, mean hold time, hold distribution) for transient holders (O_DIRECT, process_vm_readv,
// pipe slots), times a multiplicity (HCAs, ranks, devices, rings).
//
// Every number in the file carries where it comes from: `source=CITATION` (a citation from
// /work/shared/research/pin-budget.md: a lore id, a repo:path, a table row) or `estimate`. The
// parser refuses a number without one, so a workload can always say which of its inputs are
// estimates. Errors are "line L, column C: what", like the op scripts (script_lexer.h).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace pinsplit::budget {

// Where one number comes from.
struct Provenance {
  bool estimated = false;
  std::string source;  // the citation; empty when estimated
  int line = 0;
};

struct SourcedNumber {
  double value = 0;
  Provenance provenance;
  bool present = false;
};

enum class ClassKind { kReadPin, kWritePin, kOrdinary };
enum class Term { kShort, kLong };
enum class HoldDistribution { kExponential, kDeterministic, kUniform };

struct HolderClass {
  std::string name;
  ClassKind kind = ClassKind::kOrdinary;
  Term term = Term::kShort;
  HoldDistribution hold_distribution = HoldDistribution::kExponential;
  SourcedNumber count;         // fixed holders (each held for the whole run)
  SourcedNumber rate;          // arrivals per second (Poisson), per unit of multiplicity
  SourcedNumber hold_mean;     // seconds
  SourcedNumber multiplicity;  // independent copies of the class; 1 when absent
  // Finite sources (pin classes only): each copy has this many holders that each ask at `rate`
  // while idle (an Engset class, e.g. a queue depth); absent: Poisson arrivals at `rate`.
  SourcedNumber sources;
  int line = 0;

  bool fixed() const { return count.present; }
  bool finite() const { return sources.present; }
  // Sources of a finite-source class, all copies together.
  double Sources() const { return finite() ? sources.value * Multiplicity() : 0.0; }
  double Multiplicity() const { return multiplicity.present ? multiplicity.value : 1.0; }
  // Holders that stay for the whole run: count x multiplicity.
  double FixedHolders() const { return fixed() ? count.value * Multiplicity() : 0.0; }
  // Poisson arrivals per second, all copies together (a finite-source class: with every
  // source idle).
  double ArrivalRate() const {
    if (fixed()) return 0.0;
    return rate.value * (finite() ? Sources() : Multiplicity());
  }
  // Offered load in Erlangs of a Poisson class: mean number held at once were nothing refused.
  double OfferedLoad() const { return fixed() || finite() ? 0.0 : ArrivalRate() * hold_mean.value; }
};

struct Workload {
  std::string name;   // file stem or preset name
  std::string file;   // where it was read from ("budget/workloads/x.workload" for presets)
  std::string title;  // the `title` line, or empty
  std::vector<HolderClass> classes;

  // True when any number is tagged `estimate`.
  bool Estimated() const;
  // Every number in the workload with its provenance, in file order (for reports and tests).
  std::vector<const SourcedNumber*> Numbers() const;
};

// The largest fixed demand a class may declare: no field of a 32-bit word holds more.
inline constexpr double kMaxFixedHolders = 2147483647.0;
// The most sources a finite-source class may have (all copies): the exact convolution is
// quadratic in them.
inline constexpr double kMaxSources = 65536.0;

// Parses a `.workload` file. `name` and `file` are recorded as given.
absl::StatusOr<Workload> ParseWorkload(absl::string_view text, std::string name, std::string file);

}  // namespace pinsplit::budget
