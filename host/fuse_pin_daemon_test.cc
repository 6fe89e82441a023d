// SPDX-License-Identifier: MIT
// FusePinDaemon on real pages of this process: pins unshare COW pages (PFNs from
// /proc/self/pagemap), data cross the pins in both directions, a dying pinner cancels its pin,
// and nothing (mount, thread, directory) is left behind.
#include "host/fuse_pin_daemon.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"

namespace pinsplit::host {
namespace {

constexpr std::size_t kPage = 4096;
constexpr absl::Duration kWait = absl::Seconds(10);

// The physical frame behind `addr` (0 when not present or not readable).
std::uint64_t PfnOf(const void* addr) {
  int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  std::uint64_t entry = 0;
  const off_t offset = static_cast<off_t>(reinterpret_cast<std::uintptr_t>(addr) / kPage * 8);
  const bool ok = pread(fd, &entry, sizeof(entry), offset) == sizeof(entry);
  close(fd);
  if (!ok || !(entry >> 63 & 1)) return 0;
  return entry & ((1ull << 55) - 1);
}

int CountThreads() {
  int n = 0;
  DIR* dir = opendir("/proc/self/task");
  if (dir == nullptr) return -1;
  while (dirent* e = readdir(dir)) {
    if (e->d_name[0] != '.') ++n;
  }
  closedir(dir);
  return n;
}

// How many mounts are at `path` or below it.
int MountsUnder(const std::string& path) {
  std::ifstream mountinfo("/proc/self/mountinfo");
  std::string line;
  int n = 0;
  while (std::getline(mountinfo, line)) {
    n += absl::StrContains(line, absl::StrCat(" ", path, " ")) ||
         absl::StrContains(line, absl::StrCat(" ", path, "/"));
  }
  return n;
}

bool Exists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

// How many bytes of `s` differ from `c` (a count, so a failure does not print 4 KiB).
std::size_t BytesOtherThan(const std::string& s, char c) {
  std::size_t n = 0;
  for (char x : s) n += x != c;
  return n;
}

// One private anonymous page, never a THP, filled with `fill`.
struct AnonPage {
  explicit AnonPage(unsigned char fill) {
    void* p = mmap(nullptr, kPage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return;
    madvise(p, kPage, MADV_NOHUGEPAGE);
    bytes = static_cast<unsigned char*>(p);
    std::memset(bytes, fill, kPage);
  }
  ~AnonPage() {
    if (bytes != nullptr) munmap(bytes, kPage);
  }
  unsigned char* bytes = nullptr;
};

// Waits for `pid` to end, up to `timeout`; SIGKILLs and reaps it when it does not.
bool ReapWithin(pid_t pid, absl::Duration timeout, int* status) {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    pid_t r = waitpid(pid, status, WNOHANG);
    if (r == pid) return true;
    absl::SleepFor(absl::Milliseconds(5));
  }
  kill(pid, SIGKILL);
  waitpid(pid, status, 0);
  return false;
}

// A forked child that shares `page` copy-on-write until told to report the first byte it sees
// there. It only uses async-signal-safe calls (the parent has threads).
class SharingChild {
 public:
  explicit SharingChild(const unsigned char* page) {
    if (pipe(go_) != 0 || pipe(back_) != 0) return;
    pid_ = fork();
    if (pid_ == 0) {
      char c;
      if (read(go_[0], &c, 1) != 1) _exit(3);
      unsigned char seen = page[0];
      if (write(back_[1], &seen, 1) != 1) _exit(4);
      _exit(0);
    }
  }
  ~SharingChild() {
    if (pid_ > 0) {
      int status;
      kill(pid_, SIGKILL);
      waitpid(pid_, &status, 0);
    }
    for (int fd : {go_[0], go_[1], back_[0], back_[1]}) close(fd);
  }
  bool alive() const { return pid_ > 0; }
  // The child's first byte of the page, then the child exits.
  int Report() {
    char c = 1;
    unsigned char seen = 0;
    if (write(go_[1], &c, 1) != 1 || read(back_[0], &seen, 1) != 1) return -1;
    int status;
    ReapWithin(pid_, kWait, &status);
    pid_ = -1;
    return seen;
  }

 private:
  int go_[2] = {-1, -1};
  int back_[2] = {-1, -1};
  pid_t pid_ = -1;
};

#define MOUNT_OR_SKIP(daemon, ...)                                                          \
  auto daemon##_or = FusePinDaemon::Mount(__VA_ARGS__);                                     \
  if (!daemon##_or.ok() && absl::StartsWith(daemon##_or.status().message(), "skipped: ")) { \
    std::printf("%s\n", std::string(daemon##_or.status().message()).c_str());               \
    GTEST_SKIP() << daemon##_or.status().message();                                         \
  }                                                                                         \
  ASSERT_TRUE(daemon##_or.ok()) << daemon##_or.status();                                    \
  std::unique_ptr<FusePinDaemon> daemon = std::move(*daemon##_or)

TEST(FusePinDaemon, ReadPinUnsharesTheCowPageAndReadsItsContentsWhenRead) {
  MOUNT_OR_SKIP(daemon);
  AnonPage page(1);
  ASSERT_NE(page.bytes, nullptr);
  SharingChild child(page.bytes);
  ASSERT_TRUE(child.alive());
  const std::uint64_t shared_pfn = PfnOf(page.bytes);
  ASSERT_NE(shared_pfn, 0u) << "pagemap gives no PFN (needs root)";

  auto io = StartHeldFuseIo(daemon->PathFor(0), page.bytes, /*write_pin=*/false);
  ASSERT_TRUE(io.ok()) << io.status();
  ASSERT_TRUE(daemon->AwaitPinned(0, kWait).ok());
  EXPECT_TRUE(daemon->IsPinned(0));
  const std::uint64_t pinned_pfn = PfnOf(page.bytes);
  EXPECT_NE(pinned_pfn, shared_pfn) << "a R/O pin on a COW-shared anon page must unshare it";

  // Writes after the pin reach the pinned page (no fault-copy away from it), and a read
  // through the pin copies the page as it is then, not as it was when pinned.
  std::memset(page.bytes, 0xff, kPage);
  EXPECT_EQ(PfnOf(page.bytes), pinned_pfn);
  auto seen = daemon->ReadThroughPin(0);
  ASSERT_TRUE(seen.ok()) << seen.status();
  ASSERT_EQ(seen->size(), kPage);
  EXPECT_EQ(BytesOtherThan(*seen, '\xff'), 0u) << "the page was copied before it was read";
  EXPECT_EQ(daemon->ReadThroughPin(0).status().code(), absl::StatusCode::kFailedPrecondition)
      << "FUSE copies a pinned page once";
  EXPECT_TRUE(daemon->IsPinned(0));
  EXPECT_FALSE((*io)->done()) << "the pinner's call is held while the pin is";

  EXPECT_EQ(child.Report(), 1) << "the child keeps the data it shared";
  ASSERT_TRUE(daemon->Release(0).ok());
  auto written = (*io)->Join(kWait);
  ASSERT_TRUE(written.ok()) << written.status();
  EXPECT_EQ(*written, kPage);
  EXPECT_FALSE(daemon->IsPinned(0));
  EXPECT_EQ(daemon->cancelled_count(), 0);
  EXPECT_EQ(daemon->Release(0).code(), absl::StatusCode::kFailedPrecondition);
}

// cow.c's R/O pin cases (scenarios/mm/cow/ro_pin_*.ops) with the FUSE short-term R/O pin
// standing in for gup_test's long-term one: after the pin, the process writes the page and the
// pin must see the write.
enum class CowCase { kShared, kPreviouslyShared, kReadOnlyExclusive };

void ExpectReadPinSeesLaterWrite(CowCase which) {
  MOUNT_OR_SKIP(daemon);
  AnonPage page(1);
  ASSERT_NE(page.bytes, nullptr);
  std::unique_ptr<SharingChild> child;
  if (which != CowCase::kReadOnlyExclusive) {
    child = std::make_unique<SharingChild>(page.bytes);
    ASSERT_TRUE(child->alive());
    if (which == CowCase::kPreviouslyShared) {
      EXPECT_EQ(child->Report(), 1);  // and the child exits
      child.reset();
    }
  } else {
    ASSERT_EQ(mprotect(page.bytes, kPage, PROT_READ), 0);
    ASSERT_EQ(mprotect(page.bytes, kPage, PROT_READ | PROT_WRITE), 0);
  }
  auto io = StartHeldFuseIo(daemon->PathFor(0), page.bytes, false);
  ASSERT_TRUE(io.ok()) << io.status();
  ASSERT_TRUE(daemon->AwaitPinned(0, kWait).ok());
  std::memset(page.bytes, 0xff, kPage);
  auto seen = daemon->ReadThroughPin(0);
  ASSERT_TRUE(seen.ok()) << seen.status();
  EXPECT_EQ(BytesOtherThan(*seen, '\xff'), 0u) << "the pin lost coherence with the process";
  if (child) EXPECT_EQ(child->Report(), 1);
  ASSERT_TRUE(daemon->Release(0).ok());
  EXPECT_TRUE((*io)->Join(kWait).ok());
}

TEST(FusePinDaemon, CowReadPinOnSharedPage) { ExpectReadPinSeesLaterWrite(CowCase::kShared); }
TEST(FusePinDaemon, CowReadPinOnPreviouslySharedPage) {
  ExpectReadPinSeesLaterWrite(CowCase::kPreviouslyShared);
}
TEST(FusePinDaemon, CowReadPinOnReadOnlyMappedExclusivePage) {
  ExpectReadPinSeesLaterWrite(CowCase::kReadOnlyExclusive);
}

TEST(FusePinDaemon, WritePinBreaksCowAndItsDataLandInThePage) {
  MOUNT_OR_SKIP(daemon);
  AnonPage page(1);
  ASSERT_NE(page.bytes, nullptr);
  SharingChild child(page.bytes);
  ASSERT_TRUE(child.alive());
  const std::uint64_t shared_pfn = PfnOf(page.bytes);
  ASSERT_NE(shared_pfn, 0u);

  auto io = StartHeldFuseIo(daemon->PathFor(7), page.bytes, /*write_pin=*/true);
  ASSERT_TRUE(io.ok()) << io.status();
  ASSERT_TRUE(daemon->AwaitPinned(7, kWait).ok());
  const std::uint64_t pinned_pfn = PfnOf(page.bytes);
  EXPECT_NE(pinned_pfn, shared_pfn) << "a R/W pin breaks COW first";
  EXPECT_EQ(daemon->ReadThroughPin(7).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(daemon->WriteThroughPinAndRelease(7, std::string(kPage + 1, 'x')).code(),
            absl::StatusCode::kInvalidArgument);

  ASSERT_TRUE(daemon->WriteThroughPinAndRelease(7, std::string(kPage, '\x5a')).ok());
  auto read = (*io)->Join(kWait);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(*read, kPage);
  EXPECT_EQ(BytesOtherThan(std::string(reinterpret_cast<char*>(page.bytes), kPage), '\x5a'), 0u);
  EXPECT_EQ(PfnOf(page.bytes), pinned_pfn);
  EXPECT_EQ(child.Report(), 1);
  EXPECT_EQ(daemon->Release(7).code(), absl::StatusCode::kFailedPrecondition);
}

TEST(FusePinDaemon, PinsAreServedInAnyOrderWithoutBlockingEachOther) {
  MOUNT_OR_SKIP(daemon);
  AnonPage a(3), b(4), c(5);
  auto first = StartHeldFuseIo(daemon->PathFor(1), a.bytes, false);
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(daemon->AwaitPinned(1, kWait).ok());
  auto second = StartHeldFuseIo(daemon->PathFor(5), c.bytes, false);
  ASSERT_TRUE(second.ok());
  ASSERT_TRUE(daemon->AwaitPinned(5, kWait).ok());
  auto write_pin = StartHeldFuseIo(daemon->PathFor(2), b.bytes, true);
  ASSERT_TRUE(write_pin.ok());
  ASSERT_TRUE(daemon->AwaitPinned(2, kWait).ok()) << "held read pins must not block the others";
  ASSERT_TRUE(daemon->WriteThroughPinAndRelease(2, "ab").ok());
  auto read = (*write_pin)->Join(kWait);
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(*read, 2u);
  EXPECT_EQ(b.bytes[0], 'a');
  EXPECT_EQ(b.bytes[2], 4);
  // The later read pin first, then the earlier one, each seeing writes made after its pin.
  c.bytes[7] = 8;
  auto seen = daemon->ReadThroughPin(5);
  ASSERT_TRUE(seen.ok()) << seen.status();
  EXPECT_EQ((*seen)[7], 8);
  a.bytes[5] = 9;
  seen = daemon->ReadThroughPin(1);
  ASSERT_TRUE(seen.ok()) << seen.status();
  EXPECT_EQ((*seen)[5], 9);
  EXPECT_EQ((*seen)[6], 3);
  ASSERT_TRUE(daemon->Release(1).ok());
  ASSERT_TRUE(daemon->Release(5).ok());
  EXPECT_TRUE((*first)->Join(kWait).ok());
  EXPECT_TRUE((*second)->Join(kWait).ok());
  EXPECT_EQ(daemon->PathFor(1), daemon->mount_point() + "/1");
  EXPECT_EQ(daemon->AwaitPinned(32, kWait).code(), absl::StatusCode::kOutOfRange);
}

TEST(FusePinDaemon, AnEarlierPinnersCloseIsNotTakenForTheNextPinnersExit) {
  MOUNT_OR_SKIP(daemon);
  AnonPage page(1);
  auto first = StartHeldFuseIo(daemon->PathFor(0), page.bytes, false);
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(daemon->AwaitPinned(0, kWait).ok());
  ASSERT_TRUE(daemon->Release(0).ok());
  ASSERT_TRUE((*first)->Join(kWait).ok());
  // The next pinner opens read_pin (arming the connection) before the first one closes its file.
  const int fd = open((daemon->PathFor(0) + "/read_pin").c_str(), O_RDWR | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  first->reset();  // its RELEASE is queued before the next pinner's pwrite
  absl::SleepFor(absl::Milliseconds(50));
  auto early = daemon->ReadThroughPin(0);
  EXPECT_EQ(early.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_FALSE(absl::StrContains(early.status().message(), "cancelled")) << early.status();
  EXPECT_FALSE(daemon->IsPinned(0));
  std::thread pinner([&] { (void)!pwrite(fd, page.bytes, kPage, 0); });
  ASSERT_TRUE(daemon->AwaitPinned(0, kWait).ok());
  page.bytes[1] = 42;
  auto seen = daemon->ReadThroughPin(0);
  EXPECT_TRUE(seen.ok()) << seen.status();
  if (seen.ok()) EXPECT_EQ((*seen)[1], 42);
  EXPECT_TRUE(daemon->Release(0).ok());
  pinner.join();
  close(fd);
  EXPECT_EQ(daemon->cancelled_count(), 0);
}

// The pinner is a separate process; it is ended while its pin is held.
enum class PinnerEnd { kKilled, kExitsWhileAThreadHoldsThePin };
enum class PinState { kReadUnread, kReadTaken, kWrite };

void ExpectPinnerEndCancelsItsPin(PinnerEnd how, PinState state) {
  MOUNT_OR_SKIP(daemon);
  const bool write_pin = state == PinState::kWrite;
  const std::string file = daemon->PathFor(3) + (write_pin ? "/write_pin" : "/read_pin");
  int go[2];
  ASSERT_EQ(pipe(go), 0);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    AnonPage page(5);
    if (how == PinnerEnd::kKilled) {
      int fd = open(file.c_str(), O_RDWR);
      if (fd < 0) _exit(2);
      // Blocks until the daemon answers.
      (void)!(write_pin ? pread(fd, page.bytes, kPage, 0) : pwrite(fd, page.bytes, kPage, 0));
      _exit(3);
    }
    // The agent's `exit`: the main thread exits while another thread is blocked in the pin.
    auto io = StartHeldFuseIo(daemon->PathFor(3), page.bytes, write_pin);
    if (!io.ok()) _exit(2);
    char c;
    if (read(go[0], &c, 1) != 1) _exit(4);
    _exit(0);
  }
  close(go[0]);
  ASSERT_TRUE(daemon->AwaitPinned(3, kWait).ok());
  if (state == PinState::kReadTaken) ASSERT_TRUE(daemon->ReadThroughPin(3).ok());
  if (how == PinnerEnd::kKilled) {
    kill(pid, SIGKILL);
  } else {
    EXPECT_EQ(write(go[1], "x", 1), 1);
  }
  close(go[1]);
  int status = 0;
  ASSERT_TRUE(ReapWithin(pid, kWait, &status)) << "the pinner hung in exit";
  if (how == PinnerEnd::kKilled) {
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  } else {
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  }
  if (state == PinState::kReadUnread) {
    // Only taking the request tells; the kernel has dequeued it.
    EXPECT_EQ(daemon->AwaitUnpinned(3, kWait).code(), absl::StatusCode::kFailedPrecondition);
    auto read = daemon->ReadThroughPin(3);
    EXPECT_EQ(read.status().code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_TRUE(absl::StrContains(read.status().message(), "cancelled")) << read.status();
  } else {
    ASSERT_TRUE(daemon->AwaitUnpinned(3, kWait).ok());
    EXPECT_EQ(daemon->Release(3).code(), absl::StatusCode::kFailedPrecondition);
  }
  EXPECT_FALSE(daemon->IsPinned(3));
  EXPECT_EQ(daemon->cancelled_count(), 1);
}

TEST(FusePinDaemon, KilledPinnerCancelsItsUnreadReadPin) {
  ExpectPinnerEndCancelsItsPin(PinnerEnd::kKilled, PinState::kReadUnread);
}
TEST(FusePinDaemon, KilledPinnerCancelsItsReadPinAfterTheRead) {
  ExpectPinnerEndCancelsItsPin(PinnerEnd::kKilled, PinState::kReadTaken);
}
TEST(FusePinDaemon, KilledPinnerCancelsItsWritePin) {
  ExpectPinnerEndCancelsItsPin(PinnerEnd::kKilled, PinState::kWrite);
}
TEST(FusePinDaemon, PinnerExitingWhileAThreadHoldsAReadPinCancelsIt) {
  ExpectPinnerEndCancelsItsPin(PinnerEnd::kExitsWhileAThreadHoldsThePin, PinState::kReadUnread);
}
TEST(FusePinDaemon, PinnerExitingWhileAThreadHoldsAWritePinCancelsIt) {
  ExpectPinnerEndCancelsItsPin(PinnerEnd::kExitsWhileAThreadHoldsThePin, PinState::kWrite);
}

TEST(FusePinDaemon, WatchdogEndsForgottenPins) {
  FusePinDaemon::Options options;
  options.pins = 2;
  options.pin_watchdog = absl::Milliseconds(200);
  MOUNT_OR_SKIP(daemon, options);
  AnonPage page(6), other(7);
  auto write_pin = StartHeldFuseIo(daemon->PathFor(0), page.bytes, true);
  ASSERT_TRUE(write_pin.ok());
  auto read_pin = StartHeldFuseIo(daemon->PathFor(1), other.bytes, false);
  ASSERT_TRUE(read_pin.ok());
  ASSERT_TRUE(daemon->AwaitPinned(0, kWait).ok());
  ASSERT_TRUE(daemon->AwaitPinned(1, kWait).ok());
  ASSERT_TRUE(daemon->AwaitUnpinned(0, kWait).ok());
  ASSERT_TRUE((*read_pin)->Join(kWait).status().code() == absl::StatusCode::kUnavailable);
  EXPECT_FALSE((*write_pin)->Join(kWait).ok()) << "the watchdog fails the pinner's call";
  EXPECT_FALSE(daemon->IsPinned(1));
  EXPECT_EQ(daemon->cancelled_count(), 2);
  EXPECT_EQ(page.bytes[0], 6);
}

TEST(FusePinDaemon, LeavesNoMountThreadOrDirectoryBehindEvenWithPinsOutstanding) {
  const int threads_before = CountThreads();
  std::string mount_point;
  std::unique_ptr<HeldFuseIo> own_pin;
  AnonPage page(7);
  {
    MOUNT_OR_SKIP(daemon);
    mount_point = daemon->mount_point();
    EXPECT_EQ(MountsUnder(mount_point), 32) << "one mount per pin id";
    EXPECT_EQ(CountThreads(), threads_before + 1) << "one daemon thread";

    // A pinner killed while pinned, and one of our own threads still pinned at destruction.
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      AnonPage child_page(8);
      int fd = open((daemon->PathFor(10) + "/write_pin").c_str(), O_RDWR);
      if (fd >= 0) (void)!pread(fd, child_page.bytes, kPage, 0);
      _exit(3);
    }
    ASSERT_TRUE(daemon->AwaitPinned(10, kWait).ok());
    kill(pid, SIGKILL);
    int status;
    EXPECT_TRUE(ReapWithin(pid, kWait, &status));

    pid_t reader = fork();  // and a read pinner killed with its pwrite unread
    ASSERT_GE(reader, 0);
    if (reader == 0) {
      AnonPage child_page(9);
      int fd = open((daemon->PathFor(12) + "/read_pin").c_str(), O_RDWR);
      if (fd >= 0) (void)!pwrite(fd, child_page.bytes, kPage, 0);
      _exit(3);
    }
    ASSERT_TRUE(daemon->AwaitPinned(12, kWait).ok());
    kill(reader, SIGKILL);
    EXPECT_TRUE(ReapWithin(reader, kWait, &status)) << "a killed read pinner must not hang";

    auto io = StartHeldFuseIo(daemon->PathFor(11), page.bytes, false);
    ASSERT_TRUE(io.ok());
    own_pin = std::move(*io);
    ASSERT_TRUE(daemon->AwaitPinned(11, kWait).ok());
  }
  auto result = own_pin->Join(kWait);
  EXPECT_FALSE(result.ok()) << "destroying the daemon fails the outstanding pinner's call";
  own_pin.reset();
  EXPECT_EQ(MountsUnder(mount_point), 0) << mount_point;
  EXPECT_FALSE(Exists(mount_point)) << mount_point;
  EXPECT_EQ(CountThreads(), threads_before);
  EXPECT_EQ(page.bytes[0], 7);
}

}  // namespace
}  // namespace pinsplit::host
