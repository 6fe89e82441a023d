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

double FromLog10(double log10_p) {
  if (log10_p == kMinusInf) return 0.0;
  return std::pow(10.0, log10_p);
}

}  // namespace pinsplit::budget
