// The config corpus: every tests/configs/bad/*.json is refused with the problems
// its .expect lists (one "path: message", or a unique part of one, per line);
// every tests/configs/good/*.json is accepted and makes its pools' configs.

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "runtime/config/config.hpp"
#include "runtime/config/pool_from_json.hpp"

namespace fs = std::filesystem;
using namespace custodian;

namespace {

std::vector<fs::path> configs(const std::string& folder) {
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator{fs::path{CUSTODIAN_CONFIG_CORPUS} / folder})
    if (entry.path().extension() == ".json")
      files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  return files;
}

} // namespace

TEST_CASE("config corpus: every bad config is refused with the problems it expects") {
  auto drivers = drivers::builtin_drivers();
  auto files = configs("bad");
  CHECK(files.size() >= 25);
  for (const auto& file : files) {
    CAPTURE(file.filename().string());
    auto result = load_node_config(file.string(), drivers);
    CHECK_FALSE(result.config.has_value());
    std::vector<std::string> found;
    for (const auto& p : result.problems)
      found.push_back(to_string(p));
    auto expect_file = fs::path{file}.replace_extension(".expect");
    std::ifstream expect{expect_file};
    REQUIRE_MESSAGE(expect, "missing ", expect_file.string());
    std::size_t lines = 0;
    for (std::string line; std::getline(expect, line);) {
      if (line.empty())
        continue;
      ++lines;
      auto matches = std::count_if(found.begin(), found.end(), [&](const std::string& f) {
        return f.find(line) != std::string::npos;
      });
      CHECK_MESSAGE(matches >= 1, "expected: ", line, "\nfound:\n", doctest::toString(found));
    }
    CHECK_MESSAGE(lines > 0, "empty ", expect_file.string());
  }
}

TEST_CASE("config corpus: every good config is accepted and makes its pools") {
  auto drivers = drivers::builtin_drivers();
  auto files = configs("good");
  CHECK(files.size() >= 2);
  for (const auto& file : files) {
    CAPTURE(file.filename().string());
    auto result = load_node_config(file.string(), drivers);
    for (const auto& p : result.problems)
      FAIL_CHECK(to_string(p));
    REQUIRE(result.config.has_value());
    for (const auto& pool : result.config->pools)
      CHECK(make_pool_config(pool, drivers).name == pool["name"]);
  }
}
