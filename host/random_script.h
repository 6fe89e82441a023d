// SPDX-License-Identifier: MIT
// Random process-level op scripts for `pinsplit fidelity --random=N --seed=S`: 2-5 processes,
// four pages each, every operation kind (writes, reads, forks, pins of every kind and modifier,
// handle reads and writes, references, mprotect, unmap, exit), always valid for the model (a
// write only where the page is mapped read-write, a handle write only through a write pin), and
// ending with every pin, reference and process released. The same seed gives the same script.
#pragma once

#include <cstdint>
#include <string>

namespace pinsplit::host {

std::string RandomMmScript(std::uint64_t seed);

}  // namespace pinsplit::host
