// SPDX-License-Identifier: MIT
#include "pinsplit/budget/erlang.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace pinsplit::budget {
namespace {

constexpr double kLn10 = 2.302585092994045684;
constexpr double kMinusInf = -std::numeric_limits<double>::infinity();

// log(exp(x) + exp(y)) without overflow.
double LogAddExp(double x, double y) {
  if (x < y) std::swap(x, y);
  if (y == kMinusInf) return x;
  return x + std::log1p(std::exp(y - x));
}

// Where the recursion hands over to the closed form: far enough above the load that the Poisson
// mass beyond n is below 1e-17 of the whole, so sum_{j<=n} a^j/j! = e^a to double precision.
bool BeyondLoad(std::uint64_t n, double a) {
  return static_cast<double>(n) > a + 40.0 * std::sqrt(a) + 100.0;
}

}  // namespace

double Log10ErlangB(std::uint64_t n, double a) {
  if (a <= 0) return kMinusInf;
  if (n == 0) return 0.0;
  const double log_a = std::log(a);
  if (BeyondLoad(n, a)) {
    const double nd = static_cast<double>(n);
    return (nd * log_a - std::lgamma(nd + 1.0) - a) / kLn10;
  }
  // log I(k) = log(1 + exp(log k - log a + log I(k-1))).
  double log_inverse = 0.0;  // I(0) = 1
  for (std::uint64_t k = 1; k <= n; ++k) {
    log_inverse = LogAddExp(0.0, std::log(static_cast<double>(k)) - log_a + log_inverse);
  }
  return -log_inverse / kLn10;
}

double ErlangB(std::uint64_t n, double a) { return FromLog10(Log10ErlangB(n, a)); }

double Log10PoissonTail(std::uint64_t m, double a) {
  if (m == 0) return 0.0;
  if (a <= 0) return kMinusInf;
  const double log_a = std::log(a);
  auto log_term = [&](double j) { return j * log_a - std::lgamma(j + 1.0) - a; };
  const double md = static_cast<double>(m);
  if (md > a) {
    // Terms fall from j = m on; sum until they stop mattering.
    double sum = kMinusInf;
    for (double j = md;; j += 1.0) {
      const double t = log_term(j);
      sum = LogAddExp(sum, t);
      if (t < sum - 40.0) break;
    }
    return sum / kLn10;
  }
  // Below the mean: one minus the head, the head summed from j = 0 to m - 1.
  double head = 0.0;
  for (std::uint64_t j = 0; j < m; ++j) head += std::exp(log_term(static_cast<double>(j)));
  return std::log10(std::max(0.0, 1.0 - head));
}

namespace {

struct LogNormalisation {
  double log_z;   // log of the sum of the unnormalised state weights up to `servers` in use
  double log_qn;  // log of the weight of exactly `servers` in use
};

// The truncated product-form system: Engset classes convolved exactly, the Poisson part in
// closed form.
LogNormalisation Normalise(std::uint64_t servers, double load,
                           const std::vector<FiniteSourceClass>& finite) {
  std::uint64_t total = 0;
  for (const FiniteSourceClass& c : finite) total += c.sources;
  const std::uint64_t top = std::min(total, servers);
  std::vector<double> e(top + 1, kMinusInf);
  e[0] = 0;
  std::uint64_t reach = 0;
  for (const FiniteSourceClass& c : finite) {
    if (c.sources == 0) continue;
    const double log_beta = c.beta > 0 ? std::log(c.beta) : kMinusInf;
    const double n = static_cast<double>(c.sources);
    std::vector<double> next(top + 1, kMinusInf);
    for (std::uint64_t m = 0; m <= std::min(top, reach); ++m) {
      if (e[m] == kMinusInf) continue;
      for (std::uint64_t j = 0; j <= c.sources && m + j <= top; ++j) {
        if (j > 0 && log_beta == kMinusInf) break;
        const double jd = static_cast<double>(j);
        const double log_choose =
            std::lgamma(n + 1) - std::lgamma(jd + 1) - std::lgamma(n - jd + 1);
        next[m + j] = LogAddExp(next[m + j], e[m] + log_choose + (j ? jd * log_beta : 0.0));
      }
    }
    reach = std::min(top, reach + c.sources);
    e = std::move(next);
  }
  auto log_poisson = [&](double s) {
    if (load <= 0) return s == 0 ? 0.0 : kMinusInf;
    return s * std::log(load) - std::lgamma(s + 1);
  };
  // Weight of exactly t in use.
  auto log_q = [&](std::uint64_t t) {
    double q = kMinusInf;
    for (std::uint64_t m = 0; m <= std::min(t, top); ++m) {
      if (e[m] != kMinusInf) q = LogAddExp(q, e[m] + log_poisson(static_cast<double>(t - m)));
    }
    return q;
  };
  LogNormalisation out;
  out.log_qn = log_q(servers);
  if (load > 0 && BeyondLoad(servers > total ? servers - total : 0, load)) {
    double sum_e = kMinusInf;
    for (double x : e) sum_e = LogAddExp(sum_e, x);
    out.log_z = sum_e + load;  // the Poisson mass above the cut is below double precision
  } else {
    // Without Poisson load nothing lies above the sources' total; with it, `servers` is within
    // reach of the load here (BeyondLoad was false), so the loop is short either way.
    const std::uint64_t last = load > 0 ? servers : top;
    out.log_z = kMinusInf;
    for (std::uint64_t t = 0; t <= last; ++t) out.log_z = LogAddExp(out.log_z, log_q(t));
  }
  return out;
}

}  // namespace

double Log10MixedLoss(std::uint64_t servers, double poisson_load, double poisson_rate,
                      const std::vector<FiniteSourceClass>& finite) {
  bool any_finite = false;
  for (const FiniteSourceClass& c : finite) any_finite = any_finite || c.sources > 0;
  if (!any_finite) return Log10ErlangB(servers, poisson_load);
  if (servers == 0) return 0.0;
  const LogNormalisation all = Normalise(servers, poisson_load, finite);
  double log_refused = kMinusInf, log_attempts = kMinusInf;
  if (poisson_rate > 0) {
    const double log_w = std::log(poisson_rate);
    log_attempts = LogAddExp(log_attempts, log_w);
    log_refused = LogAddExp(log_refused, log_w + all.log_qn - all.log_z);
  }
  for (std::size_t i = 0; i < finite.size(); ++i) {
    const FiniteSourceClass& c = finite[i];
    if (c.sources == 0 || c.rate <= 0) continue;
    std::vector<FiniteSourceClass> fewer = finite;
    --fewer[i].sources;
    const LogNormalisation seen = Normalise(servers, poisson_load, fewer);
    const double log_w =
        std::log(c.rate) + std::log(static_cast<double>(c.sources)) + seen.log_z - all.log_z;
    log_attempts = LogAddExp(log_attempts, log_w);
    log_refused = LogAddExp(log_refused, log_w + seen.log_qn - seen.log_z);
  }
  if (log_attempts == kMinusInf) return kMinusInf;
  return (log_refused - log_attempts) / kLn10;
}

double FromLog10(double log10_p) {
  if (log10_p == kMinusInf) return 0.0;
  return std::pow(10.0, log10_p);
}

}  // namespace pinsplit::budget
