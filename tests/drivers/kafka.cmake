custodian_driver_tests(kafka drivers/kafka_test.cpp)
