# A build without libsodium: keygen, --sign and verify each exit 2 with one line saying so (never a crash).
foreach(_args "keygen;--out;/tmp/probe_no_sodium_key" "--no-plugins;--list;--json;/tmp/probe_no_sodium.json;--sign;x.key"
              "verify;x.intoto.json;--key;x.pub")
  execute_process(COMMAND ${PROBE} ${_args} RESULT_VARIABLE _rc OUTPUT_VARIABLE _out ERROR_VARIABLE _err)
  if(NOT _rc EQUAL 2 OR NOT _err MATCHES "built without libsodium")
    message(FATAL_ERROR "probe ${_args}: exit ${_rc}, stderr: ${_err}")
  endif()
  if(EXISTS /tmp/probe_no_sodium_key.key OR EXISTS /tmp/probe_no_sodium.json)
    message(FATAL_ERROR "probe ${_args} left a file behind")
  endif()
endforeach()
