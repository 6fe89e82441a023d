#!/bin/bash -eu
# SPDX-License-Identifier: MIT
# ClusterFuzzLite entry point: the project's own OSS-Fuzz-style build script does the work.
exec "$SRC/pinsplit/fuzz/build.sh"
