// SPDX-License-Identifier: MIT
// AnyRefcount: one counter of any scheme, chosen at run time by name.
//
// The op-script replayer, the mm model and the fuzz targets pick a scheme from a flag
// ("split", "split:3/5/24", "bias", "plain"); this adapter gives them one interface over the
// templates. It adds a virtual call per operation and nothing else: same orderings, same misuse
// handling as the scheme it wraps. Benchmarks use the templates directly.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "pinsplit/refcount.h"

namespace pinsplit {

// The largest values a scheme's fields can hold (for jumps to boundaries).
struct RefcountLimits {
  std::uint32_t max_refs;
  std::uint32_t max_read_pins;  // for schemes without pin kinds: all pins together
  std::uint32_t max_write_pins;
};

class AnyRefcount {
 public:
  virtual ~AnyRefcount() = default;

  virtual std::string_view name() const = 0;
  virtual Capabilities capabilities() const = 0;
  virtual RefcountLimits limits() const = 0;

  virtual GetResult get() = 0;
  virtual GetResult try_get() = 0;
  virtual PutResult put() = 0;
  virtual PinResult try_pin(PinKind kind) = 0;
  virtual PutResult unpin(PinKind kind) = 0;

  virtual RefcountState state() const = 0;
  virtual bool is_pinned() const = 0;
  virtual bool is_pinned_writable() const = 0;
  virtual bool saturated() const = 0;
  virtual bool dead() const = 0;
  virtual bool reset(std::uint32_t refs, std::uint32_t read_pins, std::uint32_t write_pins,
                     bool saturated) = 0;
};

// The names MakeRefcount accepts: "split" (the seed layout), "split:R/W/O" for each compiled-in
// layout, "bias" and "plain".
std::vector<std::string> KnownRefcounts();

// A new counter holding `refs` ordinary references; InvalidArgument for an unknown name.
absl::StatusOr<std::unique_ptr<AnyRefcount>> MakeRefcount(std::string_view impl,
                                                          std::uint32_t refs = 1);

}  // namespace pinsplit
