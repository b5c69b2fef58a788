# The kafka driver: a librdkafka producer per connection (Debian's librdkafka-dev).
pkg_check_modules(RDKAFKA REQUIRED IMPORTED_TARGET rdkafka)
target_sources(custodian_drivers PRIVATE
  ${PROJECT_SOURCE_DIR}/drivers/kafka/kafka_callbacks.cpp
  ${PROJECT_SOURCE_DIR}/drivers/kafka/kafka_config.cpp
  ${PROJECT_SOURCE_DIR}/drivers/kafka/kafka_driver.cpp)
# PUBLIC: kafka_driver.hpp includes rdkafka.h for kafka_connection::native().
target_link_libraries(custodian_drivers PUBLIC PkgConfig::RDKAFKA)
