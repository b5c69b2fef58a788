# The postgres driver's tests: unit tests, and integration tests against a real
# PostgreSQL that each test starts itself (tests/support/pg_server.hpp).
custodian_driver_tests(postgres
  drivers/postgres_unit_test.cpp
  drivers/postgres_connection_test.cpp
  drivers/postgres_pool_test.cpp
  drivers/postgres_fault_test.cpp)
# tests/support/node_process.hpp (free_port, eventually) includes cpp-httplib.
target_link_libraries(custodian-postgres-tests PRIVATE PkgConfig::HTTPLIB)
# A test reads conf/postgres.json from the source tree.
target_compile_definitions(custodian-postgres-tests PRIVATE
  CUSTODIAN_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
# The example application (examples/pg_app.cpp), run by a test against a real server.
if(TARGET pg_app)
  add_dependencies(custodian-postgres-tests pg_app)
  target_compile_definitions(custodian-postgres-tests PRIVATE
    CUSTODIAN_PG_APP="$<TARGET_FILE:pg_app>")
endif()
