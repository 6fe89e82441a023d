// SPDX-License-Identifier: MIT
// Proof that the truth oracle's protection, writability and anon-exclusive invariants have
// teeth: each broken build of broken_oracle_models.h is caught at the step that breaks the
// model's rule, under exactly the new invariant's name (no older invariant sees it yet), and the
// correct model runs the same steps clean.
#include <memory>
#include <set>
#include <string>

#include "absl/status/status.h"
#include "broken_oracle_models.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "pinsplit/mm/mm_model.h"
#include "pinsplit/mm/truth_oracle.h"

namespace pinsplit::mm {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

// A few process-level steps on one build of the model, each told to the oracle when it
// succeeded, as the script replayer does.
template <class Sync>
class Steps {
 public:
  using Model = BasicMmModel<Sync>;

  explicit Steps(const std::string& policy) : model_(Make(policy)), oracle_(*model_) {}

  ProcessId Spawn() {
    const ProcessId p = *model_->spawn();
    oracle_.on_spawn(p);
    return p;
  }
  void Map(ProcessId p, Addr a) {
    ASSERT_TRUE(model_->map(p, a, a).ok());
    oracle_.on_map(p, a, a);
  }
  absl::Status Write(ProcessId p, Addr a, std::uint64_t v) {
    absl::Status s = model_->write(p, a, v);
    if (s.ok()) oracle_.on_write(p, a, v);
    return s;
  }
  ProcessId Fork(ProcessId p) {
    const ProcessId child = *model_->fork(p);
    oracle_.on_fork(p, child);
    return child;
  }
  void Unmap(ProcessId p, Addr a) {
    ASSERT_TRUE(model_->unmap(p, a).ok());
    oracle_.on_unmap(p, a);
  }
  void Protect(ProcessId p, Addr a, bool writable) {
    ASSERT_TRUE(model_->protect(p, a, writable).ok());
    oracle_.on_protect(p, a, writable);
  }
  // A long-term GUP-fast write pin; true when it was taken.
  bool PinWriteFast(ProcessId p, Addr a) {
    absl::StatusOr<PinOutcome> out = model_->pin(p, a, PinKind::kWrite, true, /*fast=*/true);
    if (!out.ok() || out->result != PinResult::kPinned) return false;
    oracle_.on_pin(out->id, p, a, PinKind::kWrite, true);
    return true;
  }
  std::uint64_t Read(ProcessId p, Addr a) { return *model_->read(p, a); }

  // The invariants check_state() finds broken now.
  std::set<std::string> Kinds() const {
    std::set<std::string> kinds;
    for (const Violation& v : oracle_.check_state()) kinds.insert(v.invariant);
    return kinds;
  }
  BasicTruthOracle<Model>& oracle() { return oracle_; }

 private:
  static std::unique_ptr<Model> Make(const std::string& policy) {
    MmOptions options;
    options.policy = policy;
    options.max_pages = 64;
    return *Model::Create(options);
  }
  std::unique_ptr<Model> model_;
  BasicTruthOracle<Model> oracle_;
};

const char* const kPolicies[] = {"split", "anon-exclusive"};

TEST(TruthOracleTeeth, AFastWritePinOnAReadOnlyMappingIsCaughtAsProtection) {
  for (const char* policy : kPolicies) {
    SCOPED_TRACE(policy);
    Steps<FastWritePinIgnoresProtectionSync> broken(policy);
    const ProcessId p = broken.Spawn();
    broken.Map(p, 0);
    ASSERT_TRUE(broken.Write(p, 0, 1).ok());
    broken.Protect(p, 0, false);
    EXPECT_THAT(broken.Kinds(), IsEmpty());
    ASSERT_TRUE(broken.PinWriteFast(p, 0));  // the flaw: the model grants it
    EXPECT_THAT(broken.Kinds(), ElementsAre("protection"));

    Steps<StdSync> correct(policy);
    const ProcessId q = correct.Spawn();
    correct.Map(q, 0);
    ASSERT_TRUE(correct.Write(q, 0, 1).ok());
    correct.Protect(q, 0, false);
    EXPECT_FALSE(correct.PinWriteFast(q, 0));  // refused by both paths
    EXPECT_THAT(correct.Kinds(), IsEmpty());
  }
}

// Not over-strict: a write pin taken while the mapping was writable outlives a later
// mprotect(read-only), as the kernel's does.
TEST(TruthOracleTeeth, AWritePinTakenBeforeMprotectReadOnlyIsNoBreach) {
  for (const char* policy : kPolicies) {
    SCOPED_TRACE(policy);
    Steps<StdSync> correct(policy);
    const ProcessId p = correct.Spawn();
    correct.Map(p, 0);
    ASSERT_TRUE(correct.Write(p, 0, 1).ok());
    ASSERT_TRUE(correct.PinWriteFast(p, 0));
    correct.Protect(p, 0, false);
    correct.Protect(p, 0, true);
    ASSERT_TRUE(correct.Write(p, 0, 2).ok());
    EXPECT_THAT(correct.Kinds(), IsEmpty());
  }
}

TEST(TruthOracleTeeth, AWriteToAReadOnlyMappingIsCaughtAsProtection) {
  // No build of the model lets a process write a read-only mapping through write(), so the
  // oracle is told of one directly: what it would hear from a model whose write() lost the check.
  Steps<StdSync> steps("split");
  const ProcessId p = steps.Spawn();
  steps.Map(p, 0);
  steps.Protect(p, 0, false);
  EXPECT_FALSE(steps.Write(p, 0, 5).ok());
  EXPECT_THAT(steps.Kinds(), IsEmpty());
  steps.oracle().on_write(p, 0, 0);  // the value the page holds: no isolation to see
  EXPECT_THAT(steps.Kinds(), ElementsAre("protection"));
}

TEST(TruthOracleTeeth, AForkThatLeavesTheParentWritableIsCaughtAsWritabilityAtTheFork) {
  for (const char* policy : kPolicies) {
    SCOPED_TRACE(policy);
    Steps<ForkLeavesParentWritableSync> broken(policy);
    const ProcessId p = broken.Spawn();
    broken.Map(p, 0);
    ASSERT_TRUE(broken.Write(p, 0, 1).ok());
    const ProcessId child = broken.Fork(p);
    // Caught before any data has moved: nothing but writability is broken yet.
    EXPECT_THAT(broken.Kinds(), ElementsAre("writability"));
    // What it would become: the parent's next write lands in the child's memory.
    ASSERT_TRUE(broken.Write(p, 0, 2).ok());
    EXPECT_EQ(broken.Read(child, 0), 2u);
    EXPECT_TRUE(broken.Kinds().contains("isolation"));

    Steps<StdSync> correct(policy);
    const ProcessId q = correct.Spawn();
    correct.Map(q, 0);
    ASSERT_TRUE(correct.Write(q, 0, 1).ok());
    const ProcessId c = correct.Fork(q);
    EXPECT_THAT(correct.Kinds(), IsEmpty());
    ASSERT_TRUE(correct.Write(q, 0, 2).ok());
    EXPECT_EQ(correct.Read(c, 0), 1u);
    EXPECT_THAT(correct.Kinds(), IsEmpty());
  }
}

TEST(TruthOracleTeeth, AForkThatKeepsAnonExclusiveIsCaughtAtTheFork) {
  Steps<ForkKeepsExclusiveSync> broken("anon-exclusive");
  const ProcessId p = broken.Spawn();
  broken.Map(p, 0);
  ASSERT_TRUE(broken.Write(p, 0, 1).ok());
  const ProcessId child = broken.Fork(p);
  EXPECT_THAT(broken.Kinds(), ElementsAre("anon-exclusive"));
  // What it would become under anon-exclusive, which trusts the flag: the parent's write
  // reuses the shared page in place.
  ASSERT_TRUE(broken.Write(p, 0, 2).ok());
  EXPECT_EQ(broken.Read(child, 0), 2u);
  EXPECT_TRUE(broken.Kinds().contains("isolation"));

  Steps<StdSync> correct("anon-exclusive");
  const ProcessId q = correct.Spawn();
  correct.Map(q, 0);
  ASSERT_TRUE(correct.Write(q, 0, 1).ok());
  correct.Fork(q);
  EXPECT_THAT(correct.Kinds(), IsEmpty());
}

// Under split the flag does not decide faults (mapcount does), so the flaw never becomes a
// leak here; only the anon-exclusive invariant sees it, while the page is shared.
TEST(TruthOracleTeeth, AForkThatKeepsAnonExclusiveUnderSplitIsSeenOnlyByTheFlagCheck) {
  Steps<ForkKeepsExclusiveSync> broken("split");
  const ProcessId p = broken.Spawn();
  broken.Map(p, 0);
  ASSERT_TRUE(broken.Write(p, 0, 1).ok());
  const ProcessId child = broken.Fork(p);
  EXPECT_THAT(broken.Kinds(), ElementsAre("anon-exclusive"));
  ASSERT_TRUE(broken.Write(child, 0, 3).ok());
  ASSERT_TRUE(broken.Write(p, 0, 2).ok());
  EXPECT_EQ(broken.Read(child, 0), 3u);
  EXPECT_THAT(broken.Kinds(), IsEmpty());  // both copied away: nobody shares the page now
}

TEST(TruthOracleTeeth, AnMprotectThatLeavesTheEntryWritableIsCaughtAsWritability) {
  for (const char* policy : kPolicies) {
    SCOPED_TRACE(policy);
    Steps<MprotectKeepsWritableSync> broken(policy);
    const ProcessId p = broken.Spawn();
    broken.Map(p, 0);
    ASSERT_TRUE(broken.Write(p, 0, 1).ok());
    broken.Protect(p, 0, false);
    EXPECT_THAT(broken.Kinds(), ElementsAre("writability"));

    Steps<StdSync> correct(policy);
    const ProcessId q = correct.Spawn();
    correct.Map(q, 0);
    ASSERT_TRUE(correct.Write(q, 0, 1).ok());
    correct.Protect(q, 0, false);
    EXPECT_THAT(correct.Kinds(), IsEmpty());
  }
}

TEST(TruthOracleTeeth, AnUnmapThatKeepsTheMapcountIsCaughtAsAccounting) {
  for (const char* policy : kPolicies) {
    SCOPED_TRACE(policy);
    Steps<UnmapKeepsMapcountSync> broken(policy);
    const ProcessId p = broken.Spawn();
    broken.Map(p, 0);
    const ProcessId child = broken.Fork(p);
    EXPECT_THAT(broken.Kinds(), IsEmpty());
    broken.Unmap(child, 0);
    EXPECT_THAT(broken.Kinds(), ElementsAre("accounting"));

    Steps<StdSync> correct(policy);
    const ProcessId q = correct.Spawn();
    correct.Map(q, 0);
    const ProcessId c = correct.Fork(q);
    correct.Unmap(c, 0);
    EXPECT_THAT(correct.Kinds(), IsEmpty());
  }
}

}  // namespace
}  // namespace pinsplit::mm
