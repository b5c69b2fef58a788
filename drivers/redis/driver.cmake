# The redis driver: hiredis (Debian's libhiredis-dev, 0.14), found with pkg-config.
# PUBLIC: redis_driver.hpp includes hiredis.h for redis_connection::native().
pkg_check_modules(HIREDIS REQUIRED IMPORTED_TARGET hiredis)
target_sources(custodian_drivers PRIVATE
  ${PROJECT_SOURCE_DIR}/drivers/redis/redis_command.cpp
  ${PROJECT_SOURCE_DIR}/drivers/redis/redis_driver.cpp
  ${PROJECT_SOURCE_DIR}/drivers/redis/redis_errors.cpp
  ${PROJECT_SOURCE_DIR}/drivers/redis/redis_reply.cpp
  ${PROJECT_SOURCE_DIR}/drivers/redis/redis_session.cpp
  ${PROJECT_SOURCE_DIR}/drivers/redis/redis_settings.cpp
  ${PROJECT_SOURCE_DIR}/drivers/redis/redis_wire.cpp)
target_link_libraries(custodian_drivers PUBLIC PkgConfig::HIREDIS)
