# The http driver: libcurl (Debian's libcurl4-openssl-dev), found with pkg-config.
# PUBLIC: http_driver.hpp includes curl.h for http_connection::native().
pkg_check_modules(LIBCURL REQUIRED IMPORTED_TARGET libcurl)
target_sources(custodian_drivers PRIVATE
  ${PROJECT_SOURCE_DIR}/drivers/http/address_policy.cpp
  ${PROJECT_SOURCE_DIR}/drivers/http/http_request.cpp
  ${PROJECT_SOURCE_DIR}/drivers/http/http_response.cpp
  ${PROJECT_SOURCE_DIR}/drivers/http/http_settings.cpp
  ${PROJECT_SOURCE_DIR}/drivers/http/http_driver.cpp)
target_link_libraries(custodian_drivers PUBLIC PkgConfig::LIBCURL)
