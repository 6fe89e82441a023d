// SPDX-License-Identifier: MIT
#include "pinsplit/budget/erlang.h"

#include <cmath>
#include <limits>

#include "gtest/gtest.h"

namespace pinsplit::budget {
namespace {

// Published Erlang B values. B(10, 5) = 0.01838 is the textbook example; the rest are the 1%
// column of the standard Erlang B table (servers -> offered Erlangs at 1% blocking).
TEST(ErlangB, MatchesPublishedTableValues) {
  EXPECT_NEAR(ErlangB(10, 5.0), 0.018385, 5e-6);
  struct Row {
    std::uint64_t servers;
    double erlangs_at_one_percent;
  };
  for (const Row& row :
       {Row{5, 1.361}, Row{10, 4.461}, Row{20, 12.031}, Row{50, 37.901}, Row{100, 84.064}}) {
    EXPECT_NEAR(ErlangB(row.servers, row.erlangs_at_one_percent), 0.01, 1e-5)
        << row.servers << " servers";
  }
}

TEST(ErlangB, SmallCasesInClosedForm) {
  for (double a : {0.1, 1.0, 7.5}) {
    EXPECT_NEAR(ErlangB(1, a), a / (1 + a), 1e-14);
    EXPECT_NEAR(ErlangB(2, a), a * a / 2 / (1 + a + a * a / 2), 1e-14);
  }
  EXPECT_EQ(ErlangB(0, 3.0), 1.0);  // no room: every arrival refused
  EXPECT_EQ(Log10ErlangB(5, 0.0), -std::numeric_limits<double>::infinity());
}

TEST(ErlangB, DecreasesWithServersAndStaysFiniteFarBelowDoubleRange) {
  double previous = 1;
  for (std::uint64_t n = 1; n < 600; ++n) {
    const double b = Log10ErlangB(n, 32.0);
    EXPECT_LT(b, previous) << n;
    EXPECT_TRUE(std::isfinite(b)) << n;
    previous = b;
  }
  EXPECT_LT(previous, -300);  // a probability a double could not hold, kept in log space
  // Millions of servers (the bias scheme's pin room) take the closed form, not 2 M steps.
  const double huge = Log10ErlangB(2097151, 0.5);
  EXPECT_TRUE(std::isfinite(huge));
  EXPECT_LT(huge, -1e6);
}

TEST(ErlangB, RecursionAndClosedFormAgreeWhereTheyMeet) {
  // The switch sits at a + 40 sqrt(a) + 100 servers; compare one step either side against the
  // plain recursion B(n) = a B(n-1) / (n + a B(n-1)) run in log space by hand.
  for (double a : {0.5, 4.0, 32.0, 200.0}) {
    const auto limit = static_cast<std::uint64_t>(a + 40 * std::sqrt(a) + 100);
    double log_b = 0;  // log B(0) = 0
    for (std::uint64_t n = 1; n <= limit + 3; ++n) {
      // B(n) = a B / (n + a B)  =>  log B(n) = log a + log B - log(n + a B)
      log_b = std::log(a) + log_b - std::log(n + a * std::exp(log_b));
      if (n + 3 >= limit) {
        EXPECT_NEAR(Log10ErlangB(n, a), log_b / std::log(10.0), 1e-9 * std::abs(log_b))
            << "a=" << a << " n=" << n;
      }
    }
  }
}

TEST(PoissonTail, KnownValues) {
  EXPECT_NEAR(std::pow(10, Log10PoissonTail(1, 2.0)), 1 - std::exp(-2.0), 1e-14);
  EXPECT_NEAR(std::pow(10, Log10PoissonTail(3, 1.0)), 1 - std::exp(-1.0) * 2.5, 1e-12);
  EXPECT_EQ(Log10PoissonTail(0, 1.0), 0.0);
  EXPECT_EQ(Log10PoissonTail(4, 0.0), -std::numeric_limits<double>::infinity());
  // Far in the tail: P(N >= 1024) for a = 1 is e^-1 / 1024! (1 + 1/1025 + ...);
  // log10 1024! = 2639.7339, log10 e = 0.4343.
  EXPECT_NEAR(Log10PoissonTail(1024, 1.0), -2639.7339 - 0.4343 + 0.0004, 0.001);
}

}  // namespace
}  // namespace pinsplit::budget

namespace pinsplit::budget {
namespace {

TEST(MixedLoss, EngsetSmallCasesAndBounds) {
  const double inf = -std::numeric_limits<double>::infinity();
  // N sources never exceed N places: no refusal at all.
  EXPECT_EQ(Log10MixedLoss(8, 0, 0, {{8, 100.0, 5.0}}), inf);
  // Two sources, one place: a source asks while the other holds with probability
  // beta / (1 + beta) (the one-source system's time congestion).
  for (double beta : {0.25, 1.0, 4.0}) {
    EXPECT_NEAR(std::pow(10, Log10MixedLoss(1, 0, 0, {{2, 10.0, beta}})), beta / (1 + beta), 1e-12);
  }
  // Three sources, two places: the two-source system full, beta^2 / (1 + 2 beta + beta^2).
  const double beta = 0.5;
  EXPECT_NEAR(std::pow(10, Log10MixedLoss(2, 0, 0, {{3, 1.0, beta}})),
              beta * beta / (1 + 2 * beta + beta * beta), 1e-12);
  // Without finite sources it is Erlang B; many sources with a small beta approach it.
  EXPECT_EQ(Log10MixedLoss(10, 5.0, 1.0, {}), Log10ErlangB(10, 5.0));
  EXPECT_NEAR(std::pow(10, Log10MixedLoss(10, 0, 0, {{20000, 1.0, 5.0 / 20000}})), ErlangB(10, 5.0),
              2e-4);
  // No room at all: every attempt refused.
  EXPECT_EQ(Log10MixedLoss(0, 0, 0, {{3, 1.0, 1.0}}), 0.0);
}

}  // namespace
}  // namespace pinsplit::budget
