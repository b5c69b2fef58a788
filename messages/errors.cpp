#include "messages/errors.hpp"

#include <caf/atom.hpp>
#include <caf/message.hpp>
#include <caf/sec.hpp>

namespace custodian {

caf::error make_error(errc code, std::string message) {
  return caf::error{static_cast<uint8_t>(code), error_category,
                    caf::make_message(std::move(message))};
}

caf::error make_error(errc code, std::string message, uint8_t driver_reason) {
  return caf::error{static_cast<uint8_t>(code), error_category,
                    caf::make_message(std::move(message), driver_reason)};
}

uint8_t driver_reason_of(const caf::error& err) {
  const auto& ctx = err.context();
  if (err.category() != error_category || ctx.size() != 2 || !ctx.match_element<uint8_t>(1))
    return 0;
  return ctx.get_as<uint8_t>(1);
}

bool is(const caf::error& err, errc code) {
  // An empty error has no category to ask for.
  return err && err.category() == error_category && err.code() == static_cast<uint8_t>(code);
}

bool busy(const caf::error& err) {
  return is(err, errc::unavailable) || is(err, errc::invalid_transition);
}

namespace {

std::string with_context(std::string code, const caf::message& ctx) {
  // The message, with or without the driver failure class after it.
  if ((ctx.size() == 1 || ctx.size() == 2) && ctx.match_element<std::string>(0))
    return code + ": " + ctx.get_as<std::string>(0);
  return ctx.empty() ? code : code + ": " + to_string(ctx);
}

} // namespace

std::string render_error(uint8_t code, const caf::message& context) {
  return with_context("custodian::" + to_string(static_cast<errc>(code)), context);
}

std::string describe(const caf::error& err) {
  if (!err)
    return "no error";
  if (err.category() == error_category)
    return render_error(err.code(), err.context());
  if (err.category() == caf::atom("system"))
    return with_context("system::" + to_string(static_cast<caf::sec>(err.code())), err.context());
  return with_context(to_string(err.category()) + "::" + std::to_string(err.code()), err.context());
}

std::string message_of(const caf::error& err) {
  const auto& ctx = err.context();
  if (err.category() == error_category && !ctx.empty() && ctx.match_element<std::string>(0))
    return ctx.get_as<std::string>(0);
  return describe(err);
}

} // namespace custodian
