# SPDX-License-Identifier: MIT
# Included from host/CMakeLists.txt. Includes are spelled from the repository root:
# "host/fuse_pin_daemon.h".
find_package(Threads REQUIRED)

# Held short-term GUP pins (R/O and R/W) through a FUSE direct-I/O daemon thread; raw /dev/fuse
# protocol from <linux/fuse.h> (linux-libc-dev).
add_library(pinsplit_host_fuse fuse_pin_daemon.cc)
target_include_directories(pinsplit_host_fuse PUBLIC ${PROJECT_SOURCE_DIR})
target_link_libraries(pinsplit_host_fuse PUBLIC absl::status absl::statusor absl::time
  absl::strings absl::str_format Threads::Threads)

# Host tests mount, fork and pin for real; where the kernel or container forbids it they print
# "skipped: <reason>" and GTEST_SKIP, which gtest_discover_tests's SKIP_REGULAR_EXPRESSION
# ("[  SKIPPED ]") makes CTest report as skipped, never passed.
function(pinsplit_host_fuse_test name)
  add_executable(${name} ${name}.cc)
  target_link_libraries(${name} PRIVATE ${ARGN} GTest::gtest_main GTest::gmock)
  gtest_discover_tests(${name} TEST_PREFIX ${name}. PROPERTIES LABELS host TIMEOUT 120
    DISCOVERY_TIMEOUT 60)
endfunction()

pinsplit_host_fuse_test(fuse_pin_daemon_test pinsplit_host_fuse)
