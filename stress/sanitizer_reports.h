// SPDX-License-Identifier: MIT
// Counts the reports ThreadSanitizer or AddressSanitizer printed in this process, so a storm's
// own result (summary line, JSON "sanitizer_reports") says when a sanitizer found something:
// a race is a finding even when no violation check fired.
//
// How: the sanitizers call the weak hook __sanitizer_report_error_summary once per report
// (after printing it, before halting when halt_on_error is set); sanitizer_reports.cc overrides
// it to count, then prints the summary line ("SUMMARY: ThreadSanitizer: ...") as the default hook
// does. In a build without a sanitizer nothing calls the hook and the count stays 0.
//
// With halt_on_error=1 the sanitizer ends the process at the first report (TSan exit 66), so no
// result is written at all; `./harness stress` therefore runs storms with halt_on_error=0.
#pragma once

#include <cstdint>

namespace pinsplit::stress {

std::uint64_t SanitizerReportsSoFar();

}  // namespace pinsplit::stress
