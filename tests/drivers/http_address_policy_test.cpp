// The http driver's address policy: which resolved addresses it may connect to,
// as a table of IPv4 and IPv6 addresses (edges of every range, the IPv6 forms
// that carry an IPv4 address) and their verdicts.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string>
#include <sys/un.h>
#include <vector>

#include <doctest/doctest.h>

#include "drivers/http/address_policy.hpp"

using namespace custodian::drivers;

namespace {

struct row {
  const char* address;
  address_class kind;
  const char* embedded = "";
};

ip_address parsed(const char* text) {
  auto a = ip_address::parse(text);
  REQUIRE_MESSAGE(a, text);
  return *a;
}

} // namespace

TEST_CASE("http: the address policy classifies IPv4 addresses at the edges of every range") {
  using c = address_class;
  const std::vector<row> table{
    {"127.0.0.1", c::loopback},
    {"127.255.255.254", c::loopback},
    {"126.255.255.255", c::global},
    {"128.0.0.0", c::global},
    {"10.0.0.1", c::private_use},
    {"10.255.255.255", c::private_use},
    {"11.0.0.1", c::global},
    {"9.255.255.255", c::global},
    {"172.16.0.1", c::private_use},
    {"172.31.255.255", c::private_use},
    {"172.15.255.255", c::global},
    {"172.32.0.0", c::global},
    {"192.168.0.1", c::private_use},
    {"192.168.255.255", c::private_use},
    {"192.169.0.1", c::global},
    {"169.254.169.254", c::link_local},
    {"169.254.0.0", c::link_local},
    {"169.255.0.1", c::global},
    {"100.64.0.1", c::shared},
    {"100.127.255.255", c::shared},
    {"100.63.255.255", c::global},
    {"100.128.0.0", c::global},
    {"0.0.0.0", c::unspecified},
    {"0.1.2.3", c::unspecified},
    {"1.0.0.0", c::global},
    {"224.0.0.1", c::multicast},
    {"239.255.255.255", c::multicast},
    {"223.255.255.255", c::global},
    {"255.255.255.255", c::broadcast},
    {"255.255.255.254", c::reserved},
    {"240.0.0.1", c::reserved},
    {"192.0.0.8", c::reserved},
    {"192.0.2.1", c::reserved},
    {"192.88.99.1", c::reserved},
    {"198.18.0.1", c::reserved},
    {"198.19.255.255", c::reserved},
    {"198.20.0.0", c::global},
    {"198.51.100.7", c::reserved},
    {"203.0.113.9", c::reserved},
    {"8.8.8.8", c::global},
    {"1.1.1.1", c::global},
    {"93.184.216.34", c::global},
  };
  for (const auto& r : table) {
    CAPTURE(r.address);
    auto verdict = classify(parsed(r.address));
    CHECK(verdict.kind == r.kind);
    CHECK(verdict.embedded.empty());
  }
}

TEST_CASE("http: the address policy classifies IPv6 addresses and the IPv4 ones they carry") {
  using c = address_class;
  const std::vector<row> table{
    {"::1", c::loopback},
    {"[::1]", c::loopback},
    {"::", c::unspecified},
    {"::ffff:127.0.0.1", c::loopback, "v4-mapped form of 127.0.0.1"},
    {"::ffff:7f00:1", c::loopback, "v4-mapped form of 127.0.0.1"},
    {"[::ffff:127.0.0.1]", c::loopback, "v4-mapped form of 127.0.0.1"},
    {"::ffff:10.1.2.3", c::private_use, "v4-mapped form of 10.1.2.3"},
    {"::ffff:169.254.169.254", c::link_local, "v4-mapped form of 169.254.169.254"},
    {"::ffff:8.8.8.8", c::global, "v4-mapped form of 8.8.8.8"},
    {"::127.0.0.1", c::loopback, "v4-compatible form of 127.0.0.1"},
    {"::2", c::unspecified, "v4-compatible form of 0.0.0.2"},
    {"::ffff:0:127.0.0.1", c::loopback, "v4-translated form of 127.0.0.1"},
    {"64:ff9b::7f00:1", c::loopback, "NAT64 form of 127.0.0.1"},
    {"64:ff9b::192.168.1.1", c::private_use, "NAT64 form of 192.168.1.1"},
    {"64:ff9b::808:808", c::global, "NAT64 form of 8.8.8.8"},
    {"64:ff9b:1::1", c::private_use},
    {"2002:7f00:1::1", c::loopback, "6to4 form of 127.0.0.1"},
    {"2002:a9fe:a9fe::1", c::link_local, "6to4 form of 169.254.169.254"},
    {"2002:808:808::1", c::global, "6to4 form of 8.8.8.8"},
    {"fe80::1", c::link_local},
    {"febf:ffff::1", c::link_local},
    {"fec0::1", c::private_use},
    {"fc00::1", c::unique_local},
    {"fd12:3456::1", c::unique_local},
    {"fbff:ffff::1", c::reserved},
    {"ff02::1", c::multicast},
    {"ff0e::1", c::multicast},
    {"2001:db8::1", c::reserved},
    {"2001::1", c::reserved},
    {"2001:1ff:ffff::1", c::reserved},
    {"2001:200::1", c::global},
    {"3fff::1", c::reserved},
    {"100::1", c::reserved},
    {"4000::1", c::reserved},
    {"1fff:ffff::1", c::reserved},
    {"2001:4860:4860::8888", c::global},
    {"2606:4700:4700::1111", c::global},
  };
  for (const auto& r : table) {
    CAPTURE(r.address);
    auto verdict = classify(parsed(r.address));
    CHECK(verdict.kind == r.kind);
    CHECK(verdict.embedded == r.embedded);
  }
}

TEST_CASE(
  "http: only numeric addresses parse - the other spellings of IPv4 are curl's to resolve") {
  for (const char* text : {"localhost", "1.2.3", "127.1", "2130706433", "0x7f000001", "0177.0.0.1",
                           "::1%lo", "", "1.2.3.4:80", "[::1", "256.0.0.1"}) {
    CAPTURE(text);
    CHECK_FALSE(ip_address::parse(text));
  }
  CHECK(parsed("127.0.0.1").text() == "127.0.0.1");
  CHECK(parsed("[0:0:0:0:0:ffff:7f00:1]").text() == "::ffff:127.0.0.1");
  CHECK(parsed("127.0.0.1").v4);
  CHECK_FALSE(parsed("::ffff:127.0.0.1").v4);
}

TEST_CASE("http: socket addresses are read as the kernel would connect to them") {
  sockaddr_in in4{};
  in4.sin_family = AF_INET;
  ::inet_pton(AF_INET, "127.0.0.1", &in4.sin_addr);
  auto a = ip_address::from_sockaddr(reinterpret_cast<sockaddr*>(&in4), sizeof in4);
  REQUIRE(a);
  CHECK(*a == parsed("127.0.0.1"));

  sockaddr_in6 in6{};
  in6.sin6_family = AF_INET6;
  ::inet_pton(AF_INET6, "::ffff:127.0.0.1", &in6.sin6_addr);
  auto b = ip_address::from_sockaddr(reinterpret_cast<sockaddr*>(&in6), sizeof in6);
  REQUIRE(b);
  CHECK(b->text() == "::ffff:127.0.0.1");
  CHECK(classify(*b).kind == address_class::loopback);

  sockaddr_un un{};
  un.sun_family = AF_UNIX;
  CHECK_FALSE(ip_address::from_sockaddr(reinterpret_cast<sockaddr*>(&un), sizeof un));
  // Too short for its family.
  CHECK_FALSE(ip_address::from_sockaddr(reinterpret_cast<sockaddr*>(&in6), sizeof in4));
}

TEST_CASE("http: address ranges hold their addresses and the v4-mapped forms of IPv4 ones") {
  auto r = address_range::parse("10.0.0.0/8");
  REQUIRE(r);
  CHECK(r->contains(parsed("10.1.2.3")));
  CHECK(r->contains(parsed("::ffff:10.1.2.3")));
  CHECK_FALSE(r->contains(parsed("11.0.0.1")));
  CHECK_FALSE(r->contains(parsed("64:ff9b::a01:203"))); // NAT64 reaches another host

  auto one = address_range::parse("127.0.0.1");
  REQUIRE(one);
  CHECK(one->contains(parsed("127.0.0.1")));
  CHECK_FALSE(one->contains(parsed("127.0.0.2")));
  CHECK_FALSE(one->contains(parsed("::1")));

  auto odd = address_range::parse("172.16.0.0/13"); // a prefix that is not a whole byte
  REQUIRE(odd);
  CHECK(odd->contains(parsed("172.23.255.255")));
  CHECK_FALSE(odd->contains(parsed("172.24.0.0")));

  auto v6 = address_range::parse("fd00::/8");
  REQUIRE(v6);
  CHECK(v6->contains(parsed("fd12::1")));
  CHECK_FALSE(v6->contains(parsed("fc00::1")));
  CHECK(address_range::parse("::/0")->contains(parsed("8.8.8.8")));

  for (const char* text : {"10.0.0.0/33", "::/129", "10.0.0.0/", "x", "10.0.0.0/8x", "/8",
                           "10.0.0.0/-1", "localhost/8"}) {
    CAPTURE(text);
    CHECK_FALSE(address_range::parse(text));
    CHECK_FALSE(address_range_problem(text).empty());
  }
  CHECK(address_range_problem("fd00::/8").empty());
}

TEST_CASE("http: the policy refuses every non-public address by default, naming it and why") {
  address_policy strict;
  CHECK(strict.refusal(parsed("8.8.8.8")).empty());
  CHECK(strict.refusal(parsed("2001:4860:4860::8888")).empty());
  CHECK(strict.refusal(parsed("127.0.0.1")) ==
        "refused to connect to 127.0.0.1: loopback address (set allow_private_networks, or list "
        "it in allow_private_addresses, to allow it)");
  auto mapped = strict.refusal(parsed("::ffff:127.0.0.1"));
  CHECK(mapped.starts_with(
    "refused to connect to ::ffff:127.0.0.1: loopback address (v4-mapped form of 127.0.0.1)"));
  CHECK(strict.refusal(parsed("169.254.169.254")).find("link-local address") != std::string::npos);
  CHECK(strict.refusal(parsed("::ffff:8.8.8.8")).empty());
  for (const char* text : {"::1", "::", "0.0.0.0", "10.0.0.1", "100.64.0.1", "fe80::1", "fd00::1",
                           "224.0.0.1", "ff02::1", "255.255.255.255", "64:ff9b::7f00:1"}) {
    CAPTURE(text);
    CHECK_FALSE(strict.refusal(parsed(text)).empty());
  }
}

TEST_CASE("http: the policy allows everything with the flag, or just the listed ranges") {
  address_policy open{true, {}};
  for (const char* text : {"127.0.0.1", "::1", "10.0.0.1", "169.254.169.254", "8.8.8.8"})
    CHECK(open.refusal(parsed(text)).empty());

  address_policy listed{false,
                        {*address_range::parse("127.0.0.1"), *address_range::parse("fd00::/8")}};
  CHECK(listed.refusal(parsed("127.0.0.1")).empty());
  CHECK(listed.refusal(parsed("::ffff:127.0.0.1")).empty()); // the same host
  CHECK(listed.refusal(parsed("fd12::1")).empty());
  CHECK(listed.refusal(parsed("8.8.8.8")).empty());
  CHECK(listed.refusal(parsed("127.0.0.2")).find("127.0.0.2: loopback") != std::string::npos);
  CHECK(listed.refusal(parsed("::1")).find("::1: loopback") != std::string::npos);
  CHECK_FALSE(listed.refusal(parsed("10.0.0.1")).empty());
}
