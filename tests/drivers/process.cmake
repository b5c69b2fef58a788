custodian_driver_tests(process
  drivers/process_test.cpp
  drivers/process_config_test.cpp
  drivers/process_pool_test.cpp)
# The children's scripts and conf/process.json are read from the source tree;
# node_process.hpp (free ports, temporary directories, eventually) links cpp-httplib.
target_compile_definitions(custodian-process-tests PRIVATE
  CUSTODIAN_PROCESS_SCRIPTS="${CMAKE_CURRENT_SOURCE_DIR}/drivers/process"
  CUSTODIAN_CONF_DIR="${PROJECT_SOURCE_DIR}/conf")
target_link_libraries(custodian-process-tests PRIVATE PkgConfig::HTTPLIB)
