// SPDX-License-Identifier: MIT
// MisuseRecorder: installs a misuse hook for its lifetime and keeps what it reports.
// Thread-safe (std::mutex, visible to ThreadSanitizer); one recorder at a time per process.
#pragma once

#include <mutex>
#include <vector>

#include "pinsplit/misuse.h"

namespace pinsplit {

class MisuseRecorder {
 public:
  MisuseRecorder() : previous_(set_misuse_hook(&Record)) {
    std::lock_guard lock(mu());
    active() = this;
  }
  ~MisuseRecorder() {
    set_misuse_hook(previous_);
    std::lock_guard lock(mu());
    active() = nullptr;
  }
  MisuseRecorder(const MisuseRecorder&) = delete;
  MisuseRecorder& operator=(const MisuseRecorder&) = delete;

  // Everything reported since construction or the last take(), oldest first.
  std::vector<Misuse> take() {
    std::lock_guard lock(mu());
    std::vector<Misuse> out;
    out.swap(reports_);
    return out;
  }

 private:
  static std::mutex& mu() {
    static std::mutex m;
    return m;
  }
  static MisuseRecorder*& active() {
    static MisuseRecorder* a = nullptr;
    return a;
  }
  static void Record(const MisuseReport& report) {
    std::lock_guard lock(mu());
    if (active() != nullptr) active()->reports_.push_back(report.kind);
  }

  MisuseHook previous_;
  std::vector<Misuse> reports_;
};

}  // namespace pinsplit
