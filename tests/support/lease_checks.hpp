#pragma once
// What a test on real threads asks of a call: how long it took (reported, never
// asserted as a timing), and the code of the lease_error it threw.

#include <chrono>
#include <string>

#include <doctest/doctest.h>

#include "messages/errors.hpp"
#include "runtime/scoped_lease.hpp"

namespace custodian::test {

template <class F>
std::chrono::milliseconds time_of(F&& f) {
  auto start = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                               start);
}

/// The code of the lease_error `f` throws (its message into `message`); no
/// lease_error fails the test.
template <class F>
errc lease_error_of(F&& f, std::string* message = nullptr) {
  try {
    f();
  } catch (const lease_error& e) {
    if (message)
      *message = e.what();
    return e.code();
  }
  FAIL("expected a lease_error");
  return errc::bad_request;
}

} // namespace custodian::test
