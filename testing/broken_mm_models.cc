// SPDX-License-Identifier: MIT
// The broken mm models of broken_mm_models.h on DeterministicSync, for the explorer.
#include "deterministic_mm_model.h"
#include "pinsplit/mm/mm_model_impl.h"
#include "pinsplit/mm/truth_oracle_impl.h"

#define PINSPLIT_BROKEN_MM_BASE ::pinsplit::DeterministicSync
#include "broken_mm_models.inc"
