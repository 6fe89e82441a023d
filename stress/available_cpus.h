// SPDX-License-Identifier: MIT
// AvailableCpus: how many CPUs this process may run on, as sched_getaffinity(2) reports them
// (a cgroup cpuset or taskset narrows it; std::thread::hardware_concurrency() does not see
// that). A storm states it beside its thread count: racing threads race only when each has a
// CPU at the same moment.
#pragma once

#include <sched.h>

#include <thread>

namespace pinsplit::stress {

inline int AvailableCpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) return CPU_COUNT(&set);
  return static_cast<int>(std::thread::hardware_concurrency());  // 0 when unknown
}

}  // namespace pinsplit::stress
