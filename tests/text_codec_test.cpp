// How drivers carry bytes in JSON (drivers/text_codec.hpp).

#include <string>

#include <doctest/doctest.h>

#include "drivers/text_codec.hpp"

using namespace custodian::drivers;

TEST_CASE(
  "text codec: base64 round-trips and pads as RFC 4648 says, UTF-8 is told from other bytes") {
  for (std::string bytes : {std::string{}, std::string{"f"}, std::string{"fo"}, std::string{"foo"},
                            std::string{"foob"}, std::string("\0\xff\x10", 3)}) {
    auto encoded = encode_base64(bytes);
    CHECK(encoded.size() % 4 == 0);
    CHECK(decode_base64(encoded) == bytes);
  }
  CHECK(encode_base64("foobar") == "Zm9vYmFy");
  CHECK(encode_base64("fooba") == "Zm9vYmE=");
  for (const char* bad : {"Zm9", "Zm9v!mFy", "Zm==Zm9v", "=m9v", "Z==="})
    CHECK_FALSE(decode_base64(bad));

  CHECK(is_utf8("plain"));
  CHECK(is_utf8("h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80"));
  for (const char* bad :
       {"\xff", "\xc3", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe2\x82"})
    CHECK_FALSE(is_utf8(bad));
}
