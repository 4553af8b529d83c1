# Warnings, sanitizers and the backend switches with their configure summary.
option(PROBE_WERROR "Treat warnings as errors" OFF)
set(PROBE_SANITIZE "" CACHE STRING "Sanitizers to enable, e.g. address,undefined")

add_library(probe_warnings INTERFACE)
# -Wno-restrict: GCC 12 reports a false -Wrestrict inside std::string concatenation at -O3 (GCC bug 105329).
target_compile_options(probe_warnings INTERFACE -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wno-sign-conversion
                                                $<$<CXX_COMPILER_ID:GNU>:-Wno-restrict>
                                                $<$<BOOL:${PROBE_WERROR}>:-Werror>)
# A sanitizer finding stops the program (exit status non-zero, so the test fails) instead of printing and
# going on: UBSan recovers by default, and a test that passes with a report in its log finds nothing.
if(PROBE_SANITIZE)
  add_compile_options(-fsanitize=${PROBE_SANITIZE} -fno-sanitize-recover=all -fno-omit-frame-pointer)
  add_link_options(-fsanitize=${PROBE_SANITIZE})
endif()

# libFuzzer harnesses (tests/fuzz, one executable per fuzz_<name>.cpp): every library is built with the coverage
# instrumentation libFuzzer reads (-fsanitize=fuzzer-no-link); only the harness executables link the fuzzer's main
# (-fsanitize=fuzzer, in tests/fuzz). Clang only: GCC has no libFuzzer. The `fuzz` preset adds ASan and UBSan.
option(PROBE_BUILD_FUZZERS "Build the libFuzzer harnesses in tests/fuzz (clang; see the fuzz preset)" OFF)
if(PROBE_BUILD_FUZZERS)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "PROBE_BUILD_FUZZERS=ON needs clang with libFuzzer (Debian: clang-14 libclang-rt-14-dev), "
                        "found ${CMAKE_CXX_COMPILER_ID} ${CMAKE_CXX_COMPILER}: use the fuzz preset")
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link)
endif()

# AUTO: build the backend when its toolkit is found; ON: a missing toolkit is a configure error; OFF: never.
foreach(_b CUDA HIP OPENCL)
  set(PROBE_ENABLE_${_b} AUTO CACHE STRING "Build the ${_b} backend plugin: AUTO, ON or OFF")
  set_property(CACHE PROBE_ENABLE_${_b} PROPERTY STRINGS AUTO ON OFF)
  string(TOUPPER "${PROBE_ENABLE_${_b}}" _v)
  if(NOT _v MATCHES "^(AUTO|ON|OFF)$")
    message(FATAL_ERROR "PROBE_ENABLE_${_b}='${PROBE_ENABLE_${_b}}': expected AUTO, ON or OFF")
  endif()
endforeach()

set_property(GLOBAL PROPERTY PROBE_SUMMARY_LINES "")
function(probe_summary name built why)
  if(built)
    set(_line "  ${name}: built${why}")
  else()
    set(_line "  ${name}: not built — ${why}")
  endif()
  set_property(GLOBAL APPEND PROPERTY PROBE_SUMMARY_LINES "${_line}")
endfunction()

function(probe_print_summary)
  get_property(_lines GLOBAL PROPERTY PROBE_SUMMARY_LINES)
  message(STATUS "")
  message(STATUS "probe ${PROJECT_VERSION} configuration (${CMAKE_BUILD_TYPE}):")
  foreach(_l IN LISTS _lines)
    message(STATUS "${_l}")
  endforeach()
  message(STATUS "")
endfunction()

# Decides whether a GPU backend is built. The toolkit probe runs in every mode but OFF, so the summary can
# say what was found even while the backend's sources are not part of this version.
# Sets PROBE_BUILD_<B> in the caller's scope.
function(probe_decide_backend B toolkit_found toolkit_desc sources_present)
  string(TOUPPER "${PROBE_ENABLE_${B}}" mode)
  string(TOLOWER "${B}" b)
  set(build OFF)
  if(mode STREQUAL "OFF")
    probe_summary("${b} backend" OFF "disabled (PROBE_ENABLE_${B}=OFF)")
  elseif(NOT toolkit_found)
    if(mode STREQUAL "ON")
      message(FATAL_ERROR "PROBE_ENABLE_${B}=ON but ${toolkit_desc}")
    endif()
    probe_summary("${b} backend" OFF "${toolkit_desc} (PROBE_ENABLE_${B}=AUTO)")
  elseif(NOT sources_present)
    if(mode STREQUAL "ON")
      message(FATAL_ERROR "PROBE_ENABLE_${B}=ON but this version of probe has no ${b} backend yet (${toolkit_desc})")
    endif()
    probe_summary("${b} backend" OFF "${toolkit_desc}, but this version has no ${b} backend sources yet")
  else()
    set(build ON)
    probe_summary("${b} backend" ON " (${toolkit_desc})")
  endif()
  set(PROBE_BUILD_${B} ${build} PARENT_SCOPE)
endfunction()
