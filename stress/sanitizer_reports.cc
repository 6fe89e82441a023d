// SPDX-License-Identifier: MIT
#include "sanitizer_reports.h"

#include <unistd.h>

#include <cstring>

namespace {

// Touched from inside a sanitizer's report, so neither it nor the hook is instrumented: the
// runtime holds its report lock there, and an instrumented access would re-enter it.
std::uint64_t reports = 0;

}  // namespace

// The name is the sanitizer runtime's, not ours to choose.
extern "C" __attribute__((no_sanitize("address", "thread", "undefined"))) void
__sanitizer_report_error_summary(const char* summary) {  // NOLINT(bugprone-reserved-identifier)
  __atomic_fetch_add(&reports, 1, __ATOMIC_RELAXED);
  if (summary == nullptr) return;
  // What the default hook prints: the line "SUMMARY: <tool>: <what> <where>".
  const char* parts[] = {summary, "\n"};
  for (const char* part : parts) {
    const ssize_t ignored = write(STDERR_FILENO, part, std::strlen(part));
    (void)ignored;
  }
}

namespace pinsplit::stress {

__attribute__((no_sanitize("thread"))) std::uint64_t SanitizerReportsSoFar() {
  return __atomic_load_n(&reports, __ATOMIC_RELAXED);
}

}  // namespace pinsplit::stress
