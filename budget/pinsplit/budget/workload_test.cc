// SPDX-License-Identifier: MIT
#include "pinsplit/budget/workload.h"

#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "pinsplit/budget/presets.h"

namespace pinsplit::budget {
namespace {

using ::testing::HasSubstr;

constexpr char kGood[] = R"(# a comment
title two classes
pin dio kind=read term=short hold=deterministic
  rate 1000 source=lore:x@y   # trailing comment
  hold_mean 0.0001 estimate
  multiplicity 8 source=commit:825cf206ed51
ordinary mappers
  count 3 source=Documentation/admin-guide/mm/ksm.rst
)";

TEST(Workload, ParsesClassesNumbersAndProvenance) {
  absl::StatusOr<Workload> w = ParseWorkload(kGood, "good", "good.workload");
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_EQ(w->title, "two classes");
  ASSERT_EQ(w->classes.size(), 2u);
  const HolderClass& dio = w->classes[0];
  EXPECT_EQ(dio.kind, ClassKind::kReadPin);
  EXPECT_EQ(dio.term, Term::kShort);
  EXPECT_EQ(dio.hold_distribution, HoldDistribution::kDeterministic);
  EXPECT_DOUBLE_EQ(dio.ArrivalRate(), 8000);
  EXPECT_DOUBLE_EQ(dio.OfferedLoad(), 0.8);
  EXPECT_EQ(dio.rate.provenance.source, "lore:x@y");
  EXPECT_EQ(dio.rate.provenance.line, 4);
  EXPECT_TRUE(dio.hold_mean.provenance.estimated);
  EXPECT_DOUBLE_EQ(w->classes[1].FixedHolders(), 3);
  EXPECT_TRUE(w->Estimated());
  EXPECT_EQ(w->Numbers().size(), 4u);
}

TEST(Workload, FiniteSourcesMultiplyAndCarryNoPoissonLoad) {
  absl::StatusOr<Workload> w = ParseWorkload(
      "pin qd kind=read term=short\n  rate 100 estimate\n  hold_mean 0.01 estimate\n"
      "  sources 32 estimate\n  multiplicity 2 estimate\n",
      "qd", "qd.workload");
  ASSERT_TRUE(w.ok()) << w.status();
  const HolderClass& c = w->classes[0];
  EXPECT_TRUE(c.finite());
  EXPECT_DOUBLE_EQ(c.Sources(), 64);
  EXPECT_DOUBLE_EQ(c.ArrivalRate(), 6400);  // every source idle
  EXPECT_DOUBLE_EQ(c.OfferedLoad(), 0);     // not a Poisson class
  EXPECT_EQ(w->Numbers().size(), 4u);
}

// Every bad file names the line and column of the mistake.
struct BadCase {
  const char* what;
  const char* text;
  const char* error;  // expected at the start of the message
  const char* detail;
};

const BadCase kBadCases[] = {
    {"unknown key", "ordinary a\n  count 1 estimate\n  size 4 estimate\n", "line 3, column 3",
     "unknown key 'size'"},
    {"unknown class attribute", "pin a kind=read term=long colour=red\n  count 1 estimate\n",
     "line 1, column 27", "unknown key 'colour'"},
    {"missing source tag", "ordinary a\n  count 1\n", "line 2, column 10", "missing source tag"},
    {"bad source tag", "ordinary a\n  count 1 sauce=x\n", "line 2, column 11",
     "bad source tag 'sauce=x'"},
    {"empty citation", "ordinary a\n  count 1 source=\n", "line 2, column 11", "bad source tag"},
    {"negative rate", "pin a kind=read term=short\n  rate -5 estimate\n  hold_mean 1 estimate\n",
     "line 2, column 8", "negative rate -5"},
    {"not a number", "ordinary a\n  count many estimate\n", "line 2, column 9",
     "'many' is not a number"},
    {"fractional count", "ordinary a\n  count 1.5 estimate\n", "line 2, column 9", "whole number"},
    {"capacity out of range", "ordinary a\n  count 4294967296 estimate\n", "line 2, column 9",
     "out of range"},
    {"count x multiplicity out of range",
     "pin a kind=write term=long\n  count 65536 estimate\n  multiplicity 65536 estimate\n",
     "line 3, column 16", "out of range"},
    {"zero hold", "pin a kind=read term=short\n  rate 5 estimate\n  hold_mean 0 estimate\n",
     "line 3, column 13", "above 0"},
    {"zero multiplicity", "ordinary a\n  count 1 estimate\n  multiplicity 0 estimate\n",
     "line 3, column 16", "at least 1"},
    {"number before a class", "count 1 estimate\n", "line 1, column 1", "belongs to a class"},
    {"pin without kind", "pin a term=long\n  count 1 estimate\n", "line 1, column 16",
     "needs kind=read or kind=write"},
    {"bad kind", "pin a kind=rw term=long\n  count 1 estimate\n", "line 1, column 12",
     "bad value 'rw' for kind"},
    {"bad hold distribution", "ordinary a hold=pareto\n  count 1 estimate\n", "line 1, column 17",
     "bad value 'pareto'"},
    {"kind on an ordinary class", "ordinary a kind=read\n  count 1 estimate\n", "line 1, column 12",
     "takes no 'kind'"},
    {"duplicate key", "ordinary a\n  count 1 estimate\n  count 2 estimate\n", "line 3, column 3",
     "given twice"},
    {"duplicate class", "ordinary a\n  count 1 estimate\nordinary a\n  count 1 estimate\n",
     "line 3, column 10", "defined twice"},
    {"count and rate",
     "ordinary a\n  count 1 estimate\n  rate 3 estimate\n  hold_mean 1 estimate\n",
     "line 1, column 1", "not both"},
    {"rate without hold", "ordinary a\n  rate 3 estimate\n", "line 1, column 1",
     "needs both rate and hold_mean"},
    {"trailing token", "ordinary a\n  count 1 estimate extra\n", "line 2, column 20",
     "unexpected 'extra'"},
    {"no classes", "title nothing\n", "line 2, column 1", "at least one"},
    {"bad class name", "ordinary 9lives\n  count 1 estimate\n", "line 1, column 10",
     "is not a name"},
    {"sources on an ordinary class",
     "ordinary a\n  rate 1 estimate\n  hold_mean 1 estimate\n  sources 4 estimate\n",
     "line 4, column 3", "sources belongs to pin classes"},
    {"zero sources",
     "pin a kind=read term=short\n  rate 1 estimate\n  hold_mean 1 estimate\n  sources 0 "
     "estimate\n",
     "line 4, column 11", "at least 1"},
    {"sources out of range",
     "pin a kind=read term=short\n  rate 1 estimate\n  hold_mean 1 estimate\n  sources 300 "
     "estimate\n  multiplicity 300 estimate\n",
     "line 5, column 16", "at most 65536"},
    {"sources with a count",
     "pin a kind=read term=long\n  count 1 estimate\n  sources 2 estimate\n", "line 1, column 1",
     "not both"},
};

class BadWorkload : public ::testing::TestWithParam<BadCase> {};

TEST_P(BadWorkload, FailsWithLineAndColumn) {
  const BadCase& c = GetParam();
  absl::StatusOr<Workload> w = ParseWorkload(c.text, "bad", "bad.workload");
  ASSERT_FALSE(w.ok()) << c.what;
  EXPECT_TRUE(absl::IsInvalidArgument(w.status()));
  EXPECT_TRUE(absl::StartsWith(w.status().message(), c.error))
      << c.what << ": " << w.status().message();
  EXPECT_THAT(std::string(w.status().message()), HasSubstr(c.detail)) << c.what;
}

INSTANTIATE_TEST_SUITE_P(Table, BadWorkload, ::testing::ValuesIn(kBadCases),
                         [](const ::testing::TestParamInfo<BadCase>& info) {
                           std::string name = info.param.what;
                           for (char& ch : name) {
                             if (!absl::ascii_isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           }
                           return name;
                         });

TEST(Presets, AtLeastTenAndAllParse) {
  EXPECT_GE(PresetTexts().size(), 10u);
  for (const std::string& name : PresetNames()) {
    absl::StatusOr<Workload> w = LoadPreset(name);
    ASSERT_TRUE(w.ok()) << name << ": " << w.status();
    EXPECT_EQ(w->file, "budget/workloads/" + name + ".workload");
    EXPECT_FALSE(w->title.empty()) << name;
  }
  EXPECT_TRUE(absl::IsNotFound(LoadPreset("no_such_preset").status()));
}

// Every number of every preset says where it comes from: a citation that names a place (a lore
// id, a repo path, a URL, a commit), or `estimate`; and the preset's estimated flag follows.
TEST(Presets, EveryNumberCarriesASourceOrEstimateTag) {
  for (const std::string& name : PresetNames()) {
    absl::StatusOr<Workload> w = LoadPreset(name);
    ASSERT_TRUE(w.ok()) << name;
    bool any_estimate = false;
    ASSERT_FALSE(w->Numbers().empty()) << name;
    for (const SourcedNumber* n : w->Numbers()) {
      const Provenance& p = n->provenance;
      any_estimate = any_estimate || p.estimated;
      if (p.estimated) {
        EXPECT_TRUE(p.source.empty()) << name << " line " << p.line;
      } else {
        EXPECT_TRUE(absl::StrContains(p.source, ':') || absl::StrContains(p.source, '/'))
            << name << " line " << p.line << ": '" << p.source << "' names no place";
      }
    }
    EXPECT_EQ(w->Estimated(), any_estimate) << name;
  }
}

}  // namespace
}  // namespace pinsplit::budget
