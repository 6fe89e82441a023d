// SPDX-License-Identifier: MIT
#include "output_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <string>
#include <thread>

#include "gtest/gtest.h"

namespace pinsplit {
namespace {

namespace fs = std::filesystem;

class OutputFileTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        fs::temp_directory_path() / ("pinsplit_output_file_test_" + std::to_string(getpid()) + "_" +
                                     testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  static std::string Slurp(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  // Everything in the folder but `keep`: a temp file left behind shows up here.
  int Strays(const std::set<std::string>& keep) const {
    int strays = 0;
    for (const auto& entry : fs::directory_iterator(dir_)) {
      strays += keep.count(entry.path().filename().string()) ? 0 : 1;
    }
    return strays;
  }

  fs::path dir_;
};

TEST_F(OutputFileTest, CreatesAMissingFileWithNoTempLeftBehind) {
  ASSERT_TRUE(WriteOutputFile((dir_ / "new.json").string(), "{}\n").ok());
  EXPECT_EQ(Slurp(dir_ / "new.json"), "{}\n");
  EXPECT_EQ(Strays({"new.json"}), 0);
}

TEST_F(OutputFileTest, ReplacesARegularFileWhole) {
  std::ofstream(dir_ / "old.json") << "a much longer old content";
  ASSERT_TRUE(WriteOutputFile((dir_ / "old.json").string(), "new").ok());
  EXPECT_EQ(Slurp(dir_ / "old.json"), "new");
  EXPECT_EQ(Strays({"old.json"}), 0);
}

TEST_F(OutputFileTest, UpdatesASymlinksTargetAndKeepsTheLink) {
  std::ofstream(dir_ / "target") << "old";
  fs::create_symlink("target", dir_ / "link");
  ASSERT_TRUE(WriteOutputFile((dir_ / "link").string(), "new").ok());
  EXPECT_TRUE(fs::is_symlink(dir_ / "link"));
  EXPECT_EQ(Slurp(dir_ / "target"), "new");
  EXPECT_EQ(Strays({"target", "link"}), 0);
}

TEST_F(OutputFileTest, WritesAFifoInPlace) {
  ASSERT_EQ(mkfifo((dir_ / "fifo").c_str(), 0600), 0);
  std::string received;
  std::thread reader([&] { received = Slurp(dir_ / "fifo"); });
  const absl::Status status = WriteOutputFile((dir_ / "fifo").string(), "through the pipe");
  reader.join();
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ(received, "through the pipe");
  struct stat info {};
  ASSERT_EQ(stat((dir_ / "fifo").c_str(), &info), 0);
  EXPECT_TRUE(S_ISFIFO(info.st_mode));
  EXPECT_EQ(Strays({"fifo"}), 0);
}

TEST_F(OutputFileTest, WritesACharacterDeviceInPlace) {
  ASSERT_TRUE(WriteOutputFile("/dev/null", "discarded").ok());
  struct stat info {};
  ASSERT_EQ(stat("/dev/null", &info), 0);
  EXPECT_TRUE(S_ISCHR(info.st_mode));
}

// Each row is a destination that must be refused with a message naming it, leaving the folder
// as it was.
struct Refusal {
  const char* name;
  const char* path;  // Relative to the test folder unless absolute.
  const char* says;  // A fragment the message must contain.
};

class OutputFileRefusalTest : public OutputFileTest, public testing::WithParamInterface<Refusal> {};

TEST_P(OutputFileRefusalTest, RefusesWithAClearMessageAndLeavesNothing) {
  fs::create_directories(dir_ / "subdir");
  fs::create_symlink("nowhere/at/all", dir_ / "dangling");
  const Refusal& row = GetParam();
  const std::string path = row.path[0] == '/' || row.path[0] == '\0' ? std::string(row.path)
                                                                     : (dir_ / row.path).string();
  for (const bool check_only : {true, false}) {
    const absl::Status status =
        check_only ? CheckOutputPath(path) : WriteOutputFile(path, "contents");
    if (std::string(row.name) == "device_that_fails" && check_only) {
      EXPECT_TRUE(status.ok()) << "a device is a valid destination until written";
      continue;
    }
    ASSERT_FALSE(status.ok()) << row.name << (check_only ? " (check)" : " (write)");
    EXPECT_NE(status.message().find(row.says), std::string::npos) << status.message();
  }
  EXPECT_EQ(Strays({"subdir", "dangling"}), 0);
  EXPECT_TRUE(fs::is_empty(dir_ / "subdir"));
}

INSTANTIATE_TEST_SUITE_P(
    Destinations, OutputFileRefusalTest,
    testing::Values(Refusal{"directory", "subdir", "is a directory"},
                    Refusal{"missing_folder", "no/such/folder/out.json", "No such file"},
                    Refusal{"dangling_symlink", "dangling", "symlink"},
                    Refusal{"empty_path", "", "empty output path"},
                    Refusal{"device_that_fails", "/dev/full", "No space left"}),
    [](const testing::TestParamInfo<Refusal>& info) { return std::string(info.param.name); });

TEST_F(OutputFileTest, FullDeviceStaysADevice) {
  ASSERT_FALSE(WriteOutputFile("/dev/full", "x").ok());
  struct stat info {};
  ASSERT_EQ(stat("/dev/full", &info), 0);
  EXPECT_TRUE(S_ISCHR(info.st_mode));
}

}  // namespace
}  // namespace pinsplit
