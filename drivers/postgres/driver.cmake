# The postgres driver: libpq (Debian's libpq-dev), found with pkg-config.
# PUBLIC: postgres_connection.hpp includes libpq-fe.h for native().
pkg_check_modules(LIBPQ REQUIRED IMPORTED_TARGET libpq)
target_sources(custodian_drivers PRIVATE
  ${PROJECT_SOURCE_DIR}/drivers/postgres/pg_errors.cpp
  ${PROJECT_SOURCE_DIR}/drivers/postgres/pg_round_trip.cpp
  ${PROJECT_SOURCE_DIR}/drivers/postgres/pg_values.cpp
  ${PROJECT_SOURCE_DIR}/drivers/postgres/postgres_connection.cpp
  ${PROJECT_SOURCE_DIR}/drivers/postgres/postgres_driver.cpp
  ${PROJECT_SOURCE_DIR}/drivers/postgres/postgres_settings.cpp)
target_link_libraries(custodian_drivers PUBLIC PkgConfig::LIBPQ)
