// SPDX-License-Identifier: MIT
// The correct mm model and its oracle on DeterministicSync.
#include "deterministic_mm_model.h"

#include "pinsplit/mm/mm_model_impl.h"
#include "pinsplit/mm/truth_oracle_impl.h"

namespace pinsplit::mm {

template class BasicMmModel<DeterministicSync>;
template class BasicTruthOracle<BasicMmModel<DeterministicSync>>;

}  // namespace pinsplit::mm
