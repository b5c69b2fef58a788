# The redis driver's tests: unit tests, and integration tests against a real
# redis-server that each test starts itself (tests/support/redis_server.hpp).
custodian_driver_tests(redis
  drivers/redis_unit_test.cpp
  drivers/redis_connection_test.cpp
  drivers/redis_pool_test.cpp
  drivers/redis_fault_test.cpp)
# tests/support/node_process.hpp (free_port, eventually) includes cpp-httplib.
target_link_libraries(custodian-redis-tests PRIVATE PkgConfig::HTTPLIB)
# A test reads conf/redis.json from the source tree.
target_compile_definitions(custodian-redis-tests PRIVATE
  CUSTODIAN_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
