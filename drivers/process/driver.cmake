# The process driver: managed child processes (POSIX only, no client library).
target_sources(custodian_drivers PRIVATE
  ${PROJECT_SOURCE_DIR}/drivers/process/child_process.cpp
  ${PROJECT_SOURCE_DIR}/drivers/process/line_channel.cpp
  ${PROJECT_SOURCE_DIR}/drivers/process/health_probe.cpp
  ${PROJECT_SOURCE_DIR}/drivers/process/process_settings.cpp
  ${PROJECT_SOURCE_DIR}/drivers/process/process_driver.cpp)
