// SPDX-License-Identifier: MIT
// The production mm model: BasicMmModel on std::atomic and std::mutex.
#include "pinsplit/mm/mm_model.h"

#include "pinsplit/mm/mm_model_impl.h"

namespace pinsplit::mm {

template class BasicMmModel<StdSync>;

}  // namespace pinsplit::mm
