# Where the test plugin modules are built. Included by tests/plugins (which builds them) and by the tests that
# scan them (tests/core, and the CLI tests pointing --plugin-dir at the good folder).
set(PROBE_TEST_PLUGIN_GOOD_DIR ${CMAKE_BINARY_DIR}/tests/plugins/good)      # probe_backend_fake.so, alone
set(PROBE_TEST_PLUGIN_BROKEN_DIR ${CMAKE_BINARY_DIR}/tests/plugins/broken)  # every way a plugin can be refused
set(PROBE_TEST_PLUGIN_FAULTS_DIR ${CMAKE_BINARY_DIR}/tests/plugins/faults)  # <kind>/probe_backend_<kind>.so, one each
set(PROBE_TEST_PLUGIN_TWIN_DIR ${CMAKE_BINARY_DIR}/tests/plugins/twin)      # a second "fake" backend, other file name
