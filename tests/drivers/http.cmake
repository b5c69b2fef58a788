custodian_driver_tests(http
  drivers/http_address_policy_test.cpp
  drivers/http_config_test.cpp
  drivers/http_test.cpp
  drivers/http_ssrf_test.cpp
  drivers/http_runtime_test.cpp
  drivers/http_tls_test.cpp)
# The local test server (tests/drivers/http_test_server.hpp), plain http and TLS.
target_link_libraries(custodian-http-tests PRIVATE PkgConfig::HTTPLIB)
# http_runtime_test reads conf/http.json from the source tree.
target_compile_definitions(custodian-http-tests PRIVATE
  CUSTODIAN_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
