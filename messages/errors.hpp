#pragma once
// The error codes every Custodian actor replies with (messages/errc.hpp),
// registered as the CAF error category "custodian" so that they render by name and
// cross the wire.

#include <cstdint>
#include <string>

#include <caf/atom.hpp>
#include <caf/error.hpp>
#include <caf/message.hpp>

#include "messages/errc.hpp"

namespace custodian {

/// The category under which `errc` values are registered.
inline constexpr caf::atom_value error_category = caf::atom("custodian");

/// Builds an error of the "custodian" category whose context is `message`.
caf::error make_error(errc code, std::string message);

/// The same, carrying the class of the driver failure behind it (a
/// `drivers::driver_errc` value) for those who act on it (the pool paces its
/// creations by it).
caf::error make_error(errc code, std::string message, uint8_t driver_reason);

/// The driver failure class an error carries; 0 when it carries none.
uint8_t driver_reason_of(const caf::error& err);

/// Returns true if `err` belongs to the "custodian" category and has code `code`.
bool is(const caf::error& err, errc code);

/// Whether a resource refused a call because it is busy (a call in flight) or in
/// a state that ends by itself (initializing, say): no verdict on its health.
bool busy(const caf::error& err);

/// Renders a "custodian" error from its raw parts; the category renderer uses it.
std::string render_error(uint8_t code, const caf::message& context);

/// Renders any error as "category::code: context" without needing an actor system.
std::string describe(const caf::error& err);

/// What an actor said was wrong: a "custodian" error's message alone, without
/// its category and code; `describe` for any other error.
std::string message_of(const caf::error& err);

} // namespace custodian

CAF_ERROR_CODE_ENUM(custodian::errc, "custodian")
