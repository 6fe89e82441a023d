// SPDX-License-Identifier: MIT
// Loss-system formulas for a counter field: Erlang B and the Poisson tail, in log space.
//
// A field that holds at most n holders, offered Poisson arrivals whose holds average h seconds
// at rate lambda (offered load a = lambda * h Erlangs), refuses an arrival with probability
// B(n, a), Erlang's loss formula; it depends on the hold-time distribution only through its mean
// (Sevastyanov's insensitivity). Probabilities of 1e-30 and far below are normal here, so every
// function returns log10 of the probability, -infinity for an exact zero.
#pragma once

#include <cstdint>
#include <vector>

namespace pinsplit::budget {

// log10 B(n, a). Stable: the recursion runs on the inverse, I(k) = 1 + (k / a) I(k - 1),
// I(0) = 1, in log space; beyond the load's reach (n far above a) the closed form
// n log a - log n! - a takes over, where the two agree to double precision.
// B(n, 0) = 0 for n >= 1; B(0, a) = 1 for a > 0; B(0, 0) = 0 (nothing arrives).
double Log10ErlangB(std::uint64_t n, double a);

// B(n, a) as a probability (0 when it underflows a double).
double ErlangB(std::uint64_t n, double a);

// log10 P(N >= m) for N ~ Poisson(a): the chance that at least m transient holders are present at
// a random instant when nothing is refused (an infinite-server system).
double Log10PoissonTail(std::uint64_t m, double a);

// A finite-source (Engset) class: `sources` holders, each idle source asking at `rate` per
// second and holding `hold` seconds on average (beta = rate x hold, per idle source).
struct FiniteSourceClass {
  std::uint64_t sources = 0;
  double rate = 0;
  double beta = 0;
};

// log10 of the probability that an attempt is refused, averaged over every attempt, on a field
// with `servers` free places offered Poisson load `poisson_load` (attempt rate `poisson_rate`)
// and finite-source classes. The stationary distribution is product-form (Poisson terms a^m/m!,
// Engset terms C(N, m) beta^m) truncated at `servers`; a Poisson attempt sees the time
// congestion, a class-i attempt the time congestion of the system with N_i - 1 sources (the
// arrival theorem), and class i attempts at the rate rate_i N_i Z(N_i - 1) / Z(N_i). With no
// finite-source class this is Log10ErlangB.
double Log10MixedLoss(std::uint64_t servers, double poisson_load, double poisson_rate,
                      const std::vector<FiniteSourceClass>& finite);

// 10^x, 0 for -infinity.
double FromLog10(double log10_p);

}  // namespace pinsplit::budget
