custodian_driver_tests(http
  drivers/http_address_policy_test.cpp)
