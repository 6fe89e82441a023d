// SPDX-License-Identifier: MIT
#include "pinsplit/mm/truth_oracle.h"

#include "pinsplit/mm/truth_oracle_impl.h"

namespace pinsplit::mm {

template class BasicTruthOracle<MmModel>;

}  // namespace pinsplit::mm
