// SPDX-License-Identifier: MIT
#include "output_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>

#include "absl/strings/str_cat.h"

namespace pinsplit {
namespace {

enum class Destination { kStdout, kReplace, kInPlace };

absl::Status ErrnoError(const char* what, const std::string& path, int error) {
  return absl::FailedPreconditionError(
      absl::StrCat("cannot ", what, " '", path, "': ", std::strerror(error)));
}

// Resolves symlinks (so the link survives and its target is updated) and decides how `path`
// is written. `*resolved` is the path to open or replace.
absl::Status Classify(const std::string& path, std::string* resolved, Destination* how) {
  if (path.empty()) return absl::InvalidArgumentError("empty output path");
  if (path == "-") {
    *how = Destination::kStdout;
    return absl::OkStatus();
  }
  *resolved = path;
  struct stat link_info {};
  if (lstat(path.c_str(), &link_info) == 0 && S_ISLNK(link_info.st_mode)) {
    std::error_code error;
    const std::filesystem::path target = std::filesystem::canonical(path, error);
    if (error) {
      return absl::FailedPreconditionError(absl::StrCat(
          "cannot write '", path, "': it is a symlink whose target cannot be resolved (",
          error.message(), ")"));
    }
    *resolved = target.string();
  }
  struct stat info {};
  if (stat(resolved->c_str(), &info) != 0) {
    if (errno != ENOENT) return ErrnoError("write", path, errno);
    *how = Destination::kReplace;  // A new file: created beside its final name, then renamed.
  } else if (S_ISDIR(info.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot write '", path, "': it is a directory"));
  } else {
    *how = S_ISREG(info.st_mode) ? Destination::kReplace : Destination::kInPlace;
  }
  if (*how == Destination::kReplace) {
    std::string folder = std::filesystem::path(*resolved).parent_path().string();
    if (folder.empty()) folder = ".";
    struct stat folder_info {};
    if (stat(folder.c_str(), &folder_info) != 0) {
      return ErrnoError("write into the folder of", path, errno);
    }
    if (!S_ISDIR(folder_info.st_mode)) {
      return absl::FailedPreconditionError(
          absl::StrCat("cannot write '", path, "': '", folder, "' is not a directory"));
    }
    if (access(folder.c_str(), W_OK | X_OK) != 0) {
      return ErrnoError("write into the folder of", path, errno);
    }
  }
  return absl::OkStatus();
}

// Writes all of `contents` to `fd`, retrying short writes and EINTR.
int WriteAll(int fd, std::string_view contents) {
  while (!contents.empty()) {
    const ssize_t written = write(fd, contents.data(), contents.size());
    if (written < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    contents.remove_prefix(static_cast<size_t>(written));
  }
  return 0;
}

absl::Status WriteStdout(std::string_view contents) {
  std::fflush(stdout);  // What printf already buffered goes first.
  if (const int error = WriteAll(STDOUT_FILENO, contents); error != 0) {
    return ErrnoError("write", "standard output", error);
  }
  return absl::OkStatus();
}

absl::Status WriteInPlace(const std::string& path, const std::string& resolved,
                          std::string_view contents) {
  const int fd = open(resolved.c_str(), O_WRONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return ErrnoError("open", path, errno);
  const int error = WriteAll(fd, contents);
  const int close_error = close(fd) == 0 ? 0 : errno;
  if (error != 0 || close_error != 0) return ErrnoError("write", path, error ? error : close_error);
  return absl::OkStatus();
}

absl::Status ReplaceAtomically(const std::string& path, const std::string& resolved,
                               std::string_view contents) {
  std::string temp = absl::StrCat(resolved, ".tmp-XXXXXX");
  const int fd = mkstemp(temp.data());
  if (fd < 0) return ErrnoError("create a temporary file beside", path, errno);
  int error = WriteAll(fd, contents);
  if (error == 0 && fsync(fd) != 0) error = errno;
  if (close(fd) != 0 && error == 0) error = errno;
  // mkstemp creates 0600; a result file is as readable as any file the user creates.
  const mode_t mask = umask(0);
  umask(mask);
  if (error == 0 && chmod(temp.c_str(), 0666 & ~mask) != 0) error = errno;
  if (error == 0 && std::rename(temp.c_str(), resolved.c_str()) != 0) error = errno;
  if (error != 0) {
    unlink(temp.c_str());
    return ErrnoError("write", path, error);
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status CheckOutputPath(const std::string& path) {
  std::string resolved;
  Destination how{};
  return Classify(path, &resolved, &how);
}

absl::Status WriteOutputFile(const std::string& path, std::string_view contents) {
  std::string resolved;
  Destination how{};
  if (absl::Status status = Classify(path, &resolved, &how); !status.ok()) return status;
  switch (how) {
    case Destination::kStdout:
      return WriteStdout(contents);
    case Destination::kInPlace:
      return WriteInPlace(path, resolved, contents);
    case Destination::kReplace:
      return ReplaceAtomically(path, resolved, contents);
  }
  return absl::InternalError("unreachable");
}

}  // namespace pinsplit
