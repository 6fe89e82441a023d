// SPDX-License-Identifier: MIT
#include "random_script.h"

#include <map>
#include <random>
#include <vector>

#include "absl/strings/str_cat.h"

namespace pinsplit::host {

std::string RandomMmScript(std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  const auto below = [&](std::uint64_t n) { return rng() % n; };
  const auto pick = [&](const auto& v) { return v[below(v.size())]; };
  std::string out = absl::StrCat("# random script, seed ", seed, "\n");
  int names = 0;
  const auto fresh = [&](const char* prefix) { return absl::StrCat(prefix, ++names); };
  std::map<std::string, std::map<int, bool>> procs;  // process -> address -> writable
  std::map<std::string, bool> pins;                  // handle -> write pin
  std::vector<std::string> refs;
  const std::string first = fresh("P");
  absl::StrAppend(&out, "spawn ", first, "\n", first, " map 0..3\n");
  for (int a = 0; a < 4; ++a) procs[first][a] = true;
  const int steps = 10 + static_cast<int>(below(31));
  for (int i = 0; i < steps && !procs.empty(); ++i) {
    std::vector<std::string> live;
    live.reserve(procs.size());
    for (const auto& [p, pages] : procs) live.push_back(p);
    const std::string p = pick(live);
    std::vector<int> pages;
    for (const auto& [a, w] : procs[p]) pages.push_back(a);
    const int k = static_cast<int>(below(100));
    if (k < 35 && !pages.empty()) {
      const int a = pick(pages);
      if (k < 25 && procs[p][a]) {
        absl::StrAppend(&out, p, " write ", a, " ", 1 + below(99), "\n");
      } else {
        absl::StrAppend(&out, p, " read ", a, "\n");
      }
    } else if (k < 45 && procs.size() < 5) {
      const std::string c = fresh("P");
      absl::StrAppend(&out, "fork ", p, " ", c, "\n");
      procs[c] = procs[p];
    } else if (k < 55 && !pages.empty()) {
      const int a = pick(pages);
      const bool write = below(2) == 0 && procs[p][a];
      static constexpr const char* kMods[] = {"", "longterm ", "fast ", "longterm fast "};
      const std::string h = fresh("h");
      absl::StrAppend(&out, p, " pin ", write ? "write " : "read ", kMods[below(4)], a, " as ", h,
                      "\n");
      pins[h] = write;
    } else if (k < 62 && !pins.empty()) {
      std::vector<std::string> held;
      held.reserve(pins.size());
      for (const auto& [h, w] : pins) held.push_back(h);
      const std::string h = pick(held);
      if (pins[h] && below(2) == 0) {
        absl::StrAppend(&out, h, " write ", 100 + below(100), "\n");
      } else {
        absl::StrAppend(&out, h, " read\n");
      }
    } else if (k < 70 && !pins.empty()) {
      auto it = pins.begin();
      std::advance(it, static_cast<long>(below(pins.size())));
      absl::StrAppend(&out, "unpin ", it->first, "\n");
      pins.erase(it);
    } else if (k < 77 && !pages.empty()) {
      const std::string r = fresh("r");
      absl::StrAppend(&out, p, " ref ", pick(pages), " as ", r, "\n");
      refs.push_back(r);
    } else if (k < 82 && !refs.empty()) {
      const std::size_t j = below(refs.size());
      absl::StrAppend(&out, "drop ", refs[j], "\n");
      refs.erase(refs.begin() + static_cast<long>(j));
    } else if (k < 89 && !pages.empty()) {
      const int a = pick(pages);
      const bool w = below(2) == 0;
      absl::StrAppend(&out, p, " protect ", a, w ? " rw" : " ro", "\n");
      procs[p][a] = w;
    } else if (k < 93 && !pages.empty()) {
      const int a = pick(pages);
      absl::StrAppend(&out, p, " unmap ", a, "\n");
      procs[p].erase(a);
    } else if (k < 97 && procs.size() > 1) {
      absl::StrAppend(&out, p, " exit\n");
      procs.erase(p);
    }
  }
  for (const auto& [h, w] : pins) absl::StrAppend(&out, "unpin ", h, "\n");
  for (const std::string& r : refs) absl::StrAppend(&out, "drop ", r, "\n");
  for (const auto& [p, pages] : procs) absl::StrAppend(&out, p, " exit\n");
  return out;
}

}  // namespace pinsplit::host
