#pragma once
// The http driver's guard against server-side request forgery: whether the
// driver may open a connection to a resolved IP address. A config or a redirect
// must not reach the node's own loopback, the private network it sits in, a cloud
// metadata service on a link-local address, and so on, unless the operator says
// so. The check is on the address a socket is about to connect to (after name
// resolution), so a name that resolves to a private address, a redirect and any
// spelling of an IPv4 literal (2130706433, 0x7f000001, 0177.0.0.1) all meet it.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <sys/socket.h>
#include <vector>

namespace custodian::drivers {

/// An IPv4 or IPv6 address; IPv4 is held in its v4-mapped IPv6 form
/// (::ffff:a.b.c.d), so that one range test covers both.
struct ip_address {
  std::array<uint8_t, 16> bytes{};
  bool v4 = false;

  /// A numeric address: "10.0.0.1", "::1", "[::1]" (no names, no ports).
  static std::optional<ip_address> parse(std::string_view numeric);
  /// The address of an AF_INET or AF_INET6 socket address.
  static std::optional<ip_address> from_sockaddr(const sockaddr* sa, socklen_t len);

  /// "10.0.0.1", "::ffff:127.0.0.1".
  std::string text() const;

  bool operator==(const ip_address&) const = default;
};

/// What an address is, from the IANA special-purpose registries.
enum class address_class : uint8_t {
  global,       ///< publicly routable
  unspecified,  ///< 0.0.0.0/8, ::
  loopback,     ///< 127/8, ::1
  private_use,  ///< 10/8, 172.16/12, 192.168/16, fec0::/10, 64:ff9b:1::/48
  shared,       ///< 100.64/10 (carrier-grade NAT)
  link_local,   ///< 169.254/16 (cloud metadata services), fe80::/10
  unique_local, ///< fc00::/7
  multicast,    ///< 224/4, ff00::/8
  broadcast,    ///< 255.255.255.255
  reserved,     ///< documentation, benchmarking, protocol assignments, 240/4, unassigned IPv6
};

/// "loopback address", "private address", ...
std::string_view describe(address_class kind);

struct address_verdict {
  address_class kind = address_class::global;
  /// For an IPv6 address that carries an IPv4 one (v4-mapped, v4-compatible,
  /// NAT64, 6to4): how, and which ("NAT64 form of 127.0.0.1"); else empty.
  std::string embedded;
};

/// The class of `address`; an IPv6 form that carries an IPv4 address is of the
/// class of the IPv4 address it reaches.
address_verdict classify(const ip_address& address);

/// A CIDR range ("10.1.2.0/24", "fd00::/8") or one address ("127.0.0.1").
struct address_range {
  ip_address base;
  /// Significant bits of the 128 (an IPv4 range counts its 96-bit mapped prefix).
  int bits = 128;

  static std::optional<address_range> parse(std::string_view text);
  /// An IPv4 range also holds the v4-mapped forms of its addresses: the same host.
  bool contains(const ip_address& address) const;
};

/// Why `text` is not an address range (for config checks); empty when it is one.
std::string address_range_problem(const std::string& text);

class address_policy {
public:
  /// Refuses every address that is not `global`.
  address_policy() = default;
  /// `allow_private_networks` allows every address; `allowed` allows these
  /// ranges only (the rest of the non-global space stays refused).
  address_policy(bool allow_private_networks, std::vector<address_range> allowed);

  /// Empty when the driver may connect to `address`; else why not, naming the
  /// address: "refused to connect to 127.0.0.1: loopback address (set
  /// allow_private_networks to allow it)".
  std::string refusal(const ip_address& address) const;

private:
  bool allow_all_ = false;
  std::vector<address_range> allowed_;
};

} // namespace custodian::drivers
