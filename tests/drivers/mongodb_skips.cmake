# Read by CTest after custodian-mongodb-tests' discovered tests are defined
# (tests/drivers/mongodb.cmake).
set_tests_properties(
  "mongodb: against CUSTODIAN_MONGODB_URI, commands run through a pool"
  PROPERTIES SKIP_REGULAR_EXPRESSION "skipped: CUSTODIAN_MONGODB_URI not set")
