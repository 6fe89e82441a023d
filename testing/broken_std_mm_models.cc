// SPDX-License-Identifier: MIT
// The broken mm models of broken_mm_models.h on StdSync, for the storm: real threads, real
// atomics, the same flaws.
#include "broken_mm_models.h"
#include "pinsplit/mm/mm_model_impl.h"
#include "pinsplit/mm/truth_oracle_impl.h"

#define PINSPLIT_BROKEN_MM_BASE ::pinsplit::mm::StdSync
#include "broken_mm_models.inc"
