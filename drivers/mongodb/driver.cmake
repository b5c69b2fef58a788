# The mongodb driver: a single-threaded mongoc client per connection (Debian's libmongoc-dev).
pkg_check_modules(MONGOC REQUIRED IMPORTED_TARGET libmongoc-1.0)
target_sources(custodian_drivers PRIVATE
  ${PROJECT_SOURCE_DIR}/drivers/mongodb/mongodb_command.cpp
  ${PROJECT_SOURCE_DIR}/drivers/mongodb/mongodb_config.cpp
  ${PROJECT_SOURCE_DIR}/drivers/mongodb/mongodb_driver.cpp
  ${PROJECT_SOURCE_DIR}/drivers/mongodb/mongodb_streams.cpp)
# PUBLIC: mongodb_driver.hpp includes mongoc.h for mongodb_connection::native().
target_link_libraries(custodian_drivers PUBLIC PkgConfig::MONGOC)
