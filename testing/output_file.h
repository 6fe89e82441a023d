// SPDX-License-Identifier: MIT
// How every pinsplit program writes a result: a reader never sees half a file, and nothing but a
// regular file is ever replaced.
//
//   what PATH names        what WriteOutputFile does
//   "-"                    writes standard output; a failed write or flush is an error
//   nothing (yet)          temp file in the same folder, then rename onto PATH
//   a regular file         the same: the old contents stay whole until the rename
//   a symlink              follows it; its final target gets the treatment above, the link stays
//   a device, FIFO, socket written in place (opened without O_CREAT or O_TRUNC); never replaced
//   a directory            refused
//
// Every failure returns a Status that names the path and the reason (errno's text), and no temp
// file outlives the call on any path. CheckOutputPath runs the same classification without
// writing, so a long run can refuse a bad destination before it starts rather than after.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace pinsplit {

// Refuses, before any work is done, a destination that WriteOutputFile would refuse: a
// directory, a missing or unwritable parent folder, a dangling symlink.
absl::Status CheckOutputPath(const std::string& path);

// Writes `contents` to `path` as the table above says.
absl::Status WriteOutputFile(const std::string& path, std::string_view contents);

}  // namespace pinsplit
