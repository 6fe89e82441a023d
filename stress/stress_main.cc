// SPDX-License-Identifier: MIT
// stress: many-thread storms on the counters and the mm model, made for ThreadSanitizer.
//
//   stress --storm=word   --scheme=split  [--threads=4 --seconds=2 --seed=N --mix=...]
//   stress --storm=attack --scheme=split:10/10/12
//   stress --storm=mm     --policy=split  [--nocheck_write_protect_seq]
//
// Exit status: 0 clean, 1 a violation or a sanitizer report (the seed and the command that
// replays it are printed), 2 bad flags or a --json path that cannot be written (checked before
// the storm starts). What a replay reproduces: the seed fixes every thread's sequence of choices
// and the mix; the interleaving of the threads is the machine's, so a replay re-runs the same
// workload and usually, not always, the same race.
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <random>
#include <string>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "attack_storm.h"
#include "available_cpus.h"
#include "broken_mm_models.h"
#include "broken_refcounts.h"
#include "command_line.h"
#include "mm_storm.h"
#include "output_file.h"
#include "pinsplit/any_refcount.h"
#include "pinsplit/mm/policy.h"
#include "pinsplit/refcount_registry.h"
#include "pinsplit/script_lexer.h"
#include "run_info.h"
#include "sanitizer_reports.h"
#include "storm.h"
#include "word_storm.h"

ABSL_FLAG(std::string, storm, "word", "which storm: word, attack or mm");
ABSL_FLAG(std::string, scheme, "split",
          "counter for word and attack storms: split, split:R/W/O, bias, plain, or the broken "
          "variants broken:put-relaxed-last and broken:put-reread (proof of teeth); for the mm "
          "storm, empty means the policy's own counter");
ABSL_FLAG(std::string, policy, "split",
          "mm storm policy: mapcount, refcount, anon-exclusive, split");
ABSL_FLAG(int, threads, 4,
          "threads, 1..64 (more than the cores measures oversubscription; a split layout may "
          "allow fewer)");
ABSL_FLAG(double, seconds, 2.0, "how long to run, when --ops is 0");
ABSL_FLAG(uint64_t, ops, 0,
          "operations per thread, rounded up to a whole burst (word 64, attack 32, mm 16); 0 runs "
          "for --seconds instead");
ABSL_FLAG(uint64_t, seed, 0, "seed for every thread's choices; 0 picks one (and prints it)");
ABSL_FLAG(std::string, mix, "", "operation weights, e.g. get:6,pin_read:2 (see --help text)");
ABSL_FLAG(bool, check_write_protect_seq, true,
          "mm storm: GUP-fast rechecks fork's sequence count (turn off to open the fork race)");
ABSL_FLAG(std::string, mm_variant, "correct",
          "mm storm: the model's build, correct or a deliberately broken one that narrows a race "
          "window (broken:recheck-before-pin, broken:late-fork-bump, broken:mapcount-fast-pin, "
          "broken:odd-only-recheck, broken:fork-seq-store; broken:no-seq-recheck is "
          "--nocheck_write_protect_seq; broken:no-fence-after-pin is refused on x86, whose "
          "locked compare-exchange is that fence): proof of teeth, and how much luck the storm "
          "needs");
ABSL_FLAG(bool, halt_on_violation, false, "stop at the first violation");
ABSL_FLAG(bool, progress, true, "print a progress line every second");
ABSL_FLAG(std::string, json, "", "write the summary (kind \"stress\") to this file, atomically");

namespace pinsplit::stress {
namespace {

constexpr char kUsage[] =
    "stress: thread storms on pinsplit's counters and mm model (run it under the tsan preset).\n\n"
    "  --storm=word    threads get/try_get/pin/unpin/put shared counters guarding plain\n"
    "                  payloads; the last dropper destroys and recycles. mix ops: get,\n"
    "                  pin_read, pin_write, retire\n"
    "  --storm=attack  overflow attack on one counter started near its limit. mix ops: hoard,\n"
    "                  release, pin_read, pin_write, unpin, burst\n"
    "  --storm=mm      processes and kernel users racing on the mm model. mix ops: write, read,\n"
    "                  fork, exit, unmap_map, protect, pin, foreign_pin, foreign_io, ref\n\n"
    "Exit status: 0 clean; 1 a violation or a sanitizer report (seed and replay command\n"
    "printed; the summary and --json count both); 2 bad flags or an unwritable --json path\n"
    "(checked before the storm). Ctrl-C and SIGTERM stop the storm and keep its summary.";

template <template <class> class StormT>
bool RunCounterStorm(const std::string& scheme, const StormOptions& options, StormResult& out) {
  auto run = [&]<class C>() {
    // A split layout promises its zones only to so many racing threads (split_refcount.h).
    if constexpr (requires { C::kMaxRacingThreads; }) {
      if (static_cast<std::uint64_t>(options.threads) > C::kMaxRacingThreads) {
        ExitBadInput(absl::StrCat(std::string(C::name()), " supports 1..", C::kMaxRacingThreads,
                                  " racing threads; --threads=", options.threads));
      }
    }
    out = StormT<C>(options).Run();
  };
  if (scheme == RelaxedLastPutSplitRefcount<>::name()) {
    run.template operator()<RelaxedLastPutSplitRefcount<>>();
    return true;
  }
  if (scheme == RereadingPutSplitRefcount<>::name()) {
    run.template operator()<RereadingPutSplitRefcount<>>();
    return true;
  }
  return VisitRefcountType(scheme, run);
}

// Whether --scheme names a counter a storm can run: a registry name or a broken variant; empty
// is the mm storm's "the policy's own counter".
bool IsKnownStormScheme(const std::string& scheme) {
  return scheme.empty() || scheme == RelaxedLastPutSplitRefcount<>::name() ||
         scheme == RereadingPutSplitRefcount<>::name() || MakeRefcount(scheme).ok();
}

std::string ReplayCommand(const StormOptions& o, const char* argv0) {
  std::string cmd =
      absl::StrCat(argv0, " --storm=", o.storm, " --threads=", o.threads, " --seed=", o.seed);
  if (o.storm == "mm") {
    absl::StrAppend(&cmd, " --policy=", o.policy);
    if (!o.scheme.empty()) absl::StrAppend(&cmd, " --scheme=", o.scheme);
    if (!o.check_write_protect_seq) absl::StrAppend(&cmd, " --nocheck_write_protect_seq");
    if (o.check_write_protect_seq && o.mm_variant != "correct") {
      absl::StrAppend(&cmd, " --mm_variant=", o.mm_variant);
    }
  } else {
    absl::StrAppend(&cmd, " --scheme=", o.scheme);
  }
  absl::StrAppend(&cmd, o.ops != 0 ? absl::StrCat(" --ops=", o.ops)
                                   : absl::StrFormat(" --seconds=%g", o.seconds));
  const std::string mix = absl::GetFlag(FLAGS_mix);
  if (!mix.empty()) absl::StrAppend(&cmd, " --mix=", mix);
  return cmd;
}

std::string SummaryJson(const StormOptions& o, const StormResult& r, const std::string& replay,
                        int cpus, std::uint64_t sanitizer_reports) {
  std::vector<std::string> counters;
  for (const auto& [name, value] : r.counters)
    counters.push_back(absl::StrCat(JsonString(name), ": ", value));
  std::vector<std::string> violations;
  for (const std::string& v : r.first_violations) violations.push_back(JsonString(v));
  return absl::StrFormat(
      "{\"kind\": \"stress\",\n \"run\": %s,\n"
      " \"storms\": [{\"storm\": %s, \"scheme\": %s, \"policy\": %s, \"threads\": %d,\n"
      "   \"mm_variant\": %s, \"cpus\": %d,\n"
      "   \"seconds\": %.3f, \"operations\": %d, \"ops_per_second\": %.1f, \"violations\": %d,\n"
      "   \"sanitizer_reports\": %d,\n"
      "   \"seed\": %d, \"interrupted\": %s, \"replay\": %s,\n   \"counters\": {%s},\n"
      "   \"first_violations\": [%s]}]}\n",
      RunInfoJson(), JsonString(o.storm), JsonString(o.scheme),
      o.storm == "mm" ? JsonString(o.policy) : "null", o.threads,
      o.storm == "mm" ? JsonString(o.mm_variant) : "null", cpus, r.seconds, r.operations,
      r.seconds > 0 ? static_cast<double>(r.operations) / r.seconds : 0.0, r.violations,
      sanitizer_reports, o.seed, r.interrupted ? "true" : "false", JsonString(replay),
      absl::StrJoin(counters, ", "), absl::StrJoin(violations, ", "));
}

int Main(int argc, char** argv) {
  const std::vector<std::string> args = ParseCommandLineOrExit(argc, argv, kUsage);
  if (!args.empty()) ExitBadInput(absl::StrCat("unexpected argument '", args[0], "'"));
  StormOptions o;
  o.storm = absl::GetFlag(FLAGS_storm);
  o.scheme = absl::GetFlag(FLAGS_scheme);
  o.policy = absl::GetFlag(FLAGS_policy);
  o.threads = absl::GetFlag(FLAGS_threads);
  o.seconds = absl::GetFlag(FLAGS_seconds);
  o.ops = absl::GetFlag(FLAGS_ops);
  o.seed = absl::GetFlag(FLAGS_seed);
  o.check_write_protect_seq = absl::GetFlag(FLAGS_check_write_protect_seq);
  o.mm_variant = absl::GetFlag(FLAGS_mm_variant);
  o.halt_on_violation = absl::GetFlag(FLAGS_halt_on_violation);
  o.progress = absl::GetFlag(FLAGS_progress);
  if (o.threads < 1 || o.threads > 64) {
    ExitBadInput(absl::StrCat("--threads must be 1..64, got ", o.threads));
  }
  if (!(o.seconds > 0) || o.seconds > 86400) {
    ExitBadInput(absl::StrFormat("--seconds must be in (0, 86400], got %g", o.seconds));
  }
  if (o.seed == 0) o.seed = std::random_device{}() | 1;
  const std::map<std::string, unsigned>* ops = nullptr;
  if (o.storm == "word") ops = &WordStormOps();
  if (o.storm == "attack") ops = &AttackStormOps();
  if (o.storm == "mm") ops = &MmStormOps();
  if (ops == nullptr) {
    ExitBadInput(absl::StrCat("unknown --storm ", Quoted(o.storm), "; known: word, attack, mm"));
  }
  // Every value is checked, whether or not its flag applies to this storm.
  if (!IsKnownStormScheme(o.scheme)) {
    ExitBadInput(absl::StrCat("unknown --scheme ", Quoted(o.scheme),
                              "; known: ", absl::StrJoin(KnownRefcounts(), ", "), ", ",
                              std::string(RelaxedLastPutSplitRefcount<>::name()), ", ",
                              std::string(RereadingPutSplitRefcount<>::name())));
  }
  if (!mm::MakePolicy(o.policy).ok()) {
    ExitBadInput(absl::StrCat("unknown --policy ", Quoted(o.policy),
                              "; the mm storm runs mapcount, refcount, anon-exclusive, split"));
  }
  absl::StatusOr<MmModelVariant> variant = ParseVariant(o.mm_variant);
  if (!variant.ok()) ExitBadInput(absl::StrCat("--mm_variant: ", variant.status().message()));
  if (o.storm == "mm") {
    // One flaw at a time, and one that can act: the result names the build that really ran.
    const bool narrows_the_recheck = *variant == MmModelVariant::kRecheckBeforePin ||
                                     *variant == MmModelVariant::kLateForkBump ||
                                     *variant == MmModelVariant::kOddOnlyRecheck;
    if (narrows_the_recheck && !o.check_write_protect_seq) {
      ExitBadInput(absl::StrCat("--mm_variant=", o.mm_variant,
                                " narrows the write_protect_seq recheck that "
                                "--nocheck_write_protect_seq removes: choose one"));
    }
    if (*variant == MmModelVariant::kMapcountFastPin && o.policy != "split") {
      ExitBadInput(absl::StrCat("--mm_variant=", o.mm_variant,
                                " changes split's GUP-fast only; under --policy=", o.policy,
                                " it is the correct model"));
    }
#if defined(__x86_64__) || defined(__i386__)
    // A limit of this checker, not a verdict: x86 runs an acquire compare-exchange as a locked
    // instruction, a full barrier, so the dropped fence changes nothing a storm here could see.
    if (*variant == MmModelVariant::kNoFenceAfterPin) {
      ExitBadInput(absl::StrCat("--mm_variant=", o.mm_variant,
                                " drops a fence that x86's locked compare-exchange already is: "
                                "on this CPU it runs as the correct model. The weak memory "
                                "model shows it (mm_memory_models_test)"));
    }
#endif
    if (!o.check_write_protect_seq) o.mm_variant = VariantName(MmModelVariant::kNoSeqRecheck);
  }
  absl::StatusOr<Mix> mix = ParseMix(absl::GetFlag(FLAGS_mix), *ops);
  if (!mix.ok()) ExitBadInput(std::string(mix.status().message()));
  o.mix = *mix;
  if (o.storm != "mm") {
    NoteFlagsThatDoNotApply({"policy", "check_write_protect_seq", "mm_variant"},
                            absl::StrCat("the ", o.storm, " storm"));
  }
  if (o.ops != 0) {
    NoteFlagsThatDoNotApply({"seconds"}, "a run with --ops");
    const std::uint64_t run = OpsPerThreadRun(o.storm, o.ops);
    if (run != o.ops) {
      std::cerr << absl::StrFormat(
          "stress: note: --ops=%d rounds up to %d operations per thread (the %s storm checks its "
          "budget every %d)\n",
          o.ops, run, o.storm, OpsPerThreadRun(o.storm, 1));
    }
  }
  if (o.storm == "mm" && o.scheme == "split" && o.policy != "split") o.scheme.clear();
  // A result that cannot be written is refused now, not after the storm.
  const std::string json = absl::GetFlag(FLAGS_json);
  if (!json.empty()) {
    if (absl::Status status = CheckOutputPath(json); !status.ok()) {
      ExitCannot(absl::StrCat("--json: ", status.message()));
    }
  }

  InstallInterruptHandler();
  const int cpus = AvailableCpus();
  std::cerr << absl::StrFormat(
      "storm %s, %s, %d threads on %d CPUs (sched_getaffinity), seed %d\n", o.storm,
      o.storm == "mm" ? absl::StrCat("policy ", o.policy, ", model ", o.mm_variant)
                      : "scheme " + o.scheme,
      o.threads, cpus, o.seed);
  StormResult result;
  if (o.storm == "mm") {
    absl::StatusOr<StormResult> r = RunMmStorm(o);
    if (!r.ok()) ExitBadInput(std::string(r.status().message()));
    result = *r;
  } else {
    const bool known = o.storm == "word" ? RunCounterStorm<WordStorm>(o.scheme, o, result)
                                         : RunCounterStorm<AttackStorm>(o.scheme, o, result);
    if (!known) ExitBadInput(absl::StrCat("unknown --scheme '", o.scheme, "'"));
  }
  const std::string replay = ReplayCommand(o, argv[0]);
  const std::uint64_t sanitizer_reports = SanitizerReportsSoFar();
  std::cout << absl::StrFormat(
      "%s storm: %d threads on %d CPUs, %d operations in %.2fs (%.0f ops/s), %d violation(s), "
      "%d sanitizer report(s)%s\n",
      o.storm, o.threads, cpus, result.operations, result.seconds,
      result.seconds > 0 ? static_cast<double>(result.operations) / result.seconds : 0.0,
      result.violations, sanitizer_reports, result.interrupted ? ", interrupted" : "");
  for (const auto& [name, value] : result.counters)
    std::cout << "  " << name << ": " << value << "\n";
  for (const std::string& v : result.first_violations) std::cout << "  VIOLATION " << v << "\n";
  int status = kExitOk;
  if (result.violations != 0 || sanitizer_reports != 0) {
    std::cout << "seed " << o.seed << "; replay with:\n  " << replay << "\n";
    status = kExitViolation;
  }
  if (!json.empty()) {
    if (absl::Status written =
            WriteOutputFile(json, SummaryJson(o, result, replay, cpus, sanitizer_reports));
        !written.ok()) {
      std::cerr << "stress: error: --json: " << written.message() << "\n";
      status = kExitBadInput;
    }
  }
  status = FinishStandardOutput(status);
  if (sanitizer_reports != 0) {
    // The sanitizer would turn the exit status into its own (TSan: 66) at exit; the documented
    // status is 1, and everything this run had to say is written and flushed already.
    std::cerr.flush();
    std::_Exit(status);
  }
  return status;
}

}  // namespace
}  // namespace pinsplit::stress

int main(int argc, char** argv) { return pinsplit::stress::Main(argc, argv); }
