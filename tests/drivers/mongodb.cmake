custodian_driver_tests(mongodb drivers/mongodb_test.cpp)
# Without CUSTODIAN_MONGODB_URI the real-server tests print "skipped: ...": CTest
# reports them as skipped rather than passed (tests/drivers/mongodb_skips.cmake
# runs after the discovered tests are defined).
set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES
  ${CMAKE_CURRENT_SOURCE_DIR}/drivers/mongodb_skips.cmake)
