// store-bench: writes/s of the SQLite state store on this machine's disk, each
// write committed (WAL, synchronous=FULL) before the next starts.
//
// usage: store-bench [DIRECTORY]   (default: a fresh directory under /tmp)

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "actors/sqlite_store.hpp"
#include "messages/errors.hpp"

#include "bench/report.hpp"

using namespace custodian;
using namespace custodian::bench;

namespace {

/// Times `n` calls of `op(i)`, each returning the error of a store call.
template <class Op>
samples measure(int n, Op op) {
  samples s;
  auto start = clock_type::now();
  for (int i = 0; i < n; ++i) {
    auto t0 = clock_type::now();
    if (auto err = op(i)) {
      std::fprintf(stderr, "store-bench: %s\n", describe(err).c_str());
      std::exit(1);
    }
    s.ns.push_back((clock_type::now() - t0).count());
  }
  s.elapsed = clock_type::now() - start;
  return s;
}

} // namespace

int main(int argc, char** argv) {
  namespace fs = std::filesystem;
  std::string tmpl = (fs::temp_directory_path() / "store-bench-XXXXXX").string();
  fs::path dir = argc > 1 ? fs::path{argv[1]} : fs::path{mkdtemp(tmpl.data())};
  auto opened = sqlite_store::open((dir / "store.db").string());
  if (!opened) {
    std::fprintf(stderr, "store-bench: %s\n", describe(opened.error()).c_str());
    return 1;
  }
  auto& store = **opened;
  auto ts = caf::make_timestamp();

  report(
    "store-config-put", measure(500, [&](int i) {
      nlohmann::json config{{"max_size", i}, {"driver", "sim"}, {"driver_config", {{"seed", i}}}};
      auto version = store.put_config(config_version{"pool-" + std::to_string(i % 10), 0, ts, "api",
                                                     "bench", config.dump(), false});
      return version ? caf::error{} : version.error();
    }));

  constexpr int batch_size = 1'000;
  constexpr int batches = 50;
  auto s = measure(batches, [&](int i) {
    state_updates batch;
    for (int k = 0; k < batch_size; ++k) {
      auto pool = "pool-" + std::to_string(k % 10);
      batch.resources.push_back(resource_state_record{
        pool + "-" + std::to_string(k), pool, i % 2 ? "idle" : "in_use", "healthy", ts, false});
    }
    return store.apply(batch).error();
  });
  auto updates =
    " updates_per_sec=" +
    std::to_string(static_cast<long long>(per_second(batches * batch_size, s.elapsed)));
  report("store-state-batch-1000", std::move(s), updates);

  if (argc <= 1)
    fs::remove_all(dir);
  return 0;
}
