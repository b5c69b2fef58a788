#include "drivers/http/address_policy.hpp"

#include <arpa/inet.h>
#include <charconv>
#include <cstring>
#include <netinet/in.h>

namespace custodian::drivers {

namespace {

ip_address mapped_v4(const uint8_t* four) {
  ip_address a;
  a.v4 = true;
  a.bytes[10] = a.bytes[11] = 0xff;
  std::memcpy(&a.bytes[12], four, 4);
  return a;
}

ip_address v6(const uint8_t* sixteen) {
  ip_address a;
  std::memcpy(a.bytes.data(), sixteen, 16);
  return a;
}

/// Whether the first `bits` bits of `a` and `b` agree.
bool same_prefix(const ip_address& a, const ip_address& b, int bits) {
  int whole = bits / 8;
  if (std::memcmp(a.bytes.data(), b.bytes.data(), whole) != 0)
    return false;
  int rest = bits % 8;
  if (rest == 0)
    return true;
  auto mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (a.bytes[whole] & mask) == (b.bytes[whole] & mask);
}

struct classified_range {
  address_range range;
  address_class kind;
};

/// A range of the tables below (written by us: a typo is a programming error).
address_range range_of(std::string_view text) {
  return *address_range::parse(text);
}

/// IPv4 special-purpose ranges (on the mapped form), the most specific first.
const std::vector<classified_range>& v4_ranges() {
  static const std::vector<classified_range> table{
    {range_of("255.255.255.255/32"), address_class::broadcast},
    {range_of("0.0.0.0/8"), address_class::unspecified},
    {range_of("10.0.0.0/8"), address_class::private_use},
    {range_of("100.64.0.0/10"), address_class::shared},
    {range_of("127.0.0.0/8"), address_class::loopback},
    {range_of("169.254.0.0/16"), address_class::link_local},
    {range_of("172.16.0.0/12"), address_class::private_use},
    {range_of("192.0.0.0/24"), address_class::reserved},   // IETF protocol assignments
    {range_of("192.0.2.0/24"), address_class::reserved},   // documentation
    {range_of("192.88.99.0/24"), address_class::reserved}, // former 6to4 relays
    {range_of("192.168.0.0/16"), address_class::private_use},
    {range_of("198.18.0.0/15"), address_class::reserved},   // benchmarking
    {range_of("198.51.100.0/24"), address_class::reserved}, // documentation
    {range_of("203.0.113.0/24"), address_class::reserved},  // documentation
    {range_of("224.0.0.0/4"), address_class::multicast},
    {range_of("240.0.0.0/4"), address_class::reserved},
  };
  return table;
}

/// IPv6's own addresses inside ::/96, which otherwise carries IPv4 ones.
const std::vector<classified_range>& v6_own_in_v4_space() {
  static const std::vector<classified_range> table{
    {range_of("::/128"), address_class::unspecified},
    {range_of("::1/128"), address_class::loopback},
  };
  return table;
}

/// IPv6 ranges that do not carry an IPv4 address.
const std::vector<classified_range>& v6_ranges() {
  static const std::vector<classified_range> table{
    {range_of("64:ff9b:1::/48"), address_class::private_use}, // NAT64 for local use
    {range_of("100::/64"), address_class::reserved},          // discard-only
    {range_of("2001:db8::/32"), address_class::reserved},     // documentation
    {range_of("2001::/23"), address_class::reserved}, // protocol assignments, Teredo, ORCHID
    {range_of("3fff::/20"), address_class::reserved}, // documentation
    {range_of("fc00::/7"), address_class::unique_local},
    {range_of("fe80::/10"), address_class::link_local},
    {range_of("fec0::/10"), address_class::private_use}, // deprecated site-local
    {range_of("ff00::/8"), address_class::multicast},
  };
  return table;
}

/// IPv6 forms that carry an IPv4 address: the packet reaches that IPv4 host
/// (through the kernel, a NAT64 gateway or a 6to4 relay), so they are judged as it.
struct embedding {
  address_range range;
  std::string_view name;
  std::size_t offset; ///< where the IPv4 address starts
};

const std::vector<embedding>& embeddings() {
  static const std::vector<embedding> table{
    {range_of("::ffff:0:0/96"), "v4-mapped form", 12},
    {range_of("::ffff:0:0:0/96"), "v4-translated form", 12},
    {range_of("64:ff9b::/96"), "NAT64 form", 12},
    {range_of("2002::/16"), "6to4 form", 2},
    {range_of("::/96"), "v4-compatible form", 12},
  };
  return table;
}

/// The class of the first range of `table` that holds `a`.
std::optional<address_class> class_in(const std::vector<classified_range>& table,
                                      const ip_address& a) {
  for (const auto& [range, kind] : table)
    if (range.contains(a))
      return kind;
  return std::nullopt;
}

address_class v4_class(const ip_address& mapped) {
  return class_in(v4_ranges(), mapped).value_or(address_class::global);
}

bool parse_bits(std::string_view text, int max, int& bits) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), bits);
  return ec == std::errc{} && end == text.data() + text.size() && bits >= 0 && bits <= max;
}

} // namespace

std::optional<ip_address> ip_address::parse(std::string_view numeric) {
  if (numeric.size() >= 2 && numeric.front() == '[' && numeric.back() == ']')
    numeric = numeric.substr(1, numeric.size() - 2);
  std::string text{numeric};
  in_addr a4{};
  if (::inet_pton(AF_INET, text.c_str(), &a4) == 1)
    return mapped_v4(reinterpret_cast<const uint8_t*>(&a4));
  in6_addr a6{};
  if (::inet_pton(AF_INET6, text.c_str(), &a6) == 1)
    return v6(a6.s6_addr);
  return std::nullopt;
}

std::optional<ip_address> ip_address::from_sockaddr(const sockaddr* sa, socklen_t len) {
  if (sa->sa_family == AF_INET && len >= sizeof(sockaddr_in))
    return mapped_v4(
      reinterpret_cast<const uint8_t*>(&reinterpret_cast<const sockaddr_in*>(sa)->sin_addr));
  if (sa->sa_family == AF_INET6 && len >= sizeof(sockaddr_in6))
    return v6(reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr.s6_addr);
  return std::nullopt;
}

std::string ip_address::text() const {
  char out[INET6_ADDRSTRLEN];
  if (v4)
    ::inet_ntop(AF_INET, &bytes[12], out, sizeof out);
  else
    ::inet_ntop(AF_INET6, bytes.data(), out, sizeof out);
  return out;
}

std::string_view describe(address_class kind) {
  switch (kind) {
  case address_class::global:
    return "public address";
  case address_class::unspecified:
    return "unspecified address";
  case address_class::loopback:
    return "loopback address";
  case address_class::private_use:
    return "private address";
  case address_class::shared:
    return "shared (carrier-grade NAT) address";
  case address_class::link_local:
    return "link-local address";
  case address_class::unique_local:
    return "unique-local address";
  case address_class::multicast:
    return "multicast address";
  case address_class::broadcast:
    return "broadcast address";
  case address_class::reserved:
    return "reserved address";
  }
  return "reserved address";
}

address_verdict classify(const ip_address& address) {
  if (address.v4)
    return {v4_class(address), {}};
  if (auto own = class_in(v6_own_in_v4_space(), address))
    return {*own, {}};
  for (const auto& e : embeddings())
    if (e.range.contains(address)) {
      auto inner = mapped_v4(&address.bytes[e.offset]);
      return {v4_class(inner), std::string{e.name} + " of " + inner.text()};
    }
  if (auto kind = class_in(v6_ranges(), address))
    return {*kind, {}};
  // Global unicast is 2000::/3; the rest of the space is not assigned.
  return {(address.bytes[0] & 0xe0) == 0x20 ? address_class::global : address_class::reserved, {}};
}

std::optional<address_range> address_range::parse(std::string_view text) {
  auto slash = text.find('/');
  auto address = ip_address::parse(text.substr(0, slash));
  if (!address)
    return std::nullopt;
  address_range r{*address, 128};
  if (slash == std::string_view::npos)
    return r;
  int bits = 0;
  if (!parse_bits(text.substr(slash + 1), address->v4 ? 32 : 128, bits))
    return std::nullopt;
  r.bits = address->v4 ? 96 + bits : bits;
  return r;
}

bool address_range::contains(const ip_address& address) const {
  return same_prefix(base, address, bits);
}

std::string address_range_problem(const std::string& text) {
  if (address_range::parse(text))
    return {};
  return "must be an IP address or a CIDR range (\"10.1.2.3\", \"10.1.0.0/16\", \"fd00::/8\")";
}

address_policy::address_policy(bool allow_private_networks, std::vector<address_range> allowed)
    : allow_all_(allow_private_networks), allowed_(std::move(allowed)) {}

std::string address_policy::refusal(const ip_address& address) const {
  if (allow_all_)
    return {};
  auto verdict = classify(address);
  if (verdict.kind == address_class::global)
    return {};
  for (const auto& range : allowed_)
    if (range.contains(address))
      return {};
  auto why = std::string{describe(verdict.kind)};
  if (!verdict.embedded.empty())
    why += " (" + verdict.embedded + ")";
  return "refused to connect to " + address.text() + ": " + why +
         " (set allow_private_networks, or list it in allow_private_addresses, to allow it)";
}

} // namespace custodian::drivers
