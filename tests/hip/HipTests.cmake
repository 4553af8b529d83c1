# HIP backend tests, deferred to the end of the top-level directory by probes/hip/CMakeLists.txt. None needs a GPU:
#  - hip.reference.*: host reference, MFMA operand layouts and input design (exact for any count), gtest;
#  - hip.rocm_smi.*: ROCm SMI decoding (rsmi_frequencies_t layouts by library version, PCI id match), gtest;
#  - hip.asm_audit: every kernel's timed loop in the assembly of every target it is built for;
#  - hip.asm_audit_rejects_broken_kernels: the audit fails deliberately broken kernels;
#  - hip.no_device_list: probe --list with the plugin on a machine without a GPU ("no device (hipErrorNoDevice)").
find_package(GTest CONFIG REQUIRED)
include(GoogleTest)
find_program(PROBE_HIP_PYTHON3 NAMES python3 REQUIRED)
set(_t ${PROJECT_SOURCE_DIR}/tests/hip)
set(_p ${PROJECT_SOURCE_DIR}/probes/hip)
set(_k ${PROJECT_SOURCE_DIR}/kernels/hip)
set(_c ${PROJECT_SOURCE_DIR}/kernels/common)
get_property(_hip_flags GLOBAL PROPERTY PROBE_HIP_COMPILE_FLAGS)
get_property(_hip_cxx GLOBAL PROPERTY PROBE_HIP_COMPILER)
set(_asm_dir ${CMAKE_BINARY_DIR}/probes/hip/asm)

add_executable(test_hip_reference ${_t}/test_reference.cpp ${_p}/reference.cpp)
target_include_directories(test_hip_reference PRIVATE ${_p} ${_k} ${PROJECT_SOURCE_DIR}/probes/gpu)
target_link_libraries(test_hip_reference PRIVATE GTest::gtest_main fmt::fmt probe_warnings)
gtest_discover_tests(test_hip_reference TEST_PREFIX "hip.reference." DISCOVERY_TIMEOUT 60)

add_executable(test_hip_rocm_smi ${_t}/test_rocm_smi.cpp ${_p}/rocm_smi.cpp)
target_include_directories(test_hip_rocm_smi PRIVATE ${_p})
target_link_libraries(test_hip_rocm_smi PRIVATE GTest::gtest_main fmt::fmt ${CMAKE_DL_LIBS} Threads::Threads
                                                probe_warnings)
gtest_discover_tests(test_hip_rocm_smi TEST_PREFIX "hip.rocm_smi." DISCOVERY_TIMEOUT 60)

# Device assembly of each kernel source for each audited target, same compiler, language standard and -O3 as the
# Release build. gfx940 stands for CDNA3 (gfx942 is not known to this clang).
set(_asm_args)
set(_asm_files)
set(_deps ${_k}/hip_kernels.hpp ${_k}/mfma_body.hpp ${_c}/gpu_portability.hpp ${_c}/gpu_vector_body.hpp
          ${_c}/gpu_memory_kernels.inc)
foreach(_arch gfx90a gfx940)
  foreach(_f vector mfma_cdna2 mfma_cdna3)
    set(_out ${_asm_dir}/${_f}_${_arch}.s)
    add_custom_command(OUTPUT ${_out}
      COMMAND ${_hip_cxx} ${_hip_flags} -x hip -std=c++17 -O3 -DNDEBUG --offload-arch=${_arch}
              --offload-device-only -S -I${_k} ${_k}/${_f}.hip -o ${_out}
      DEPENDS ${_k}/${_f}.hip ${_deps} COMMENT "assembly ${_f}.hip ${_arch}" VERBATIM)
    list(APPEND _asm_files ${_out})
    list(APPEND _asm_args --asm ${_arch}=${_out})
  endforeach()
endforeach()
set(_bad_asm ${_asm_dir}/audit_bad_kernels_gfx90a.s)
add_custom_command(OUTPUT ${_bad_asm}
  COMMAND ${_hip_cxx} ${_hip_flags} -x hip -std=c++17 -O3 --offload-arch=gfx90a --offload-device-only -S
          ${_t}/audit_bad_kernels.hip -o ${_bad_asm}
  DEPENDS ${_t}/audit_bad_kernels.hip ${_c}/gpu_portability.hpp COMMENT "assembly of the broken audit fixtures" VERBATIM)
add_custom_target(hip_asm ALL DEPENDS ${_asm_files} ${_bad_asm})

add_test(NAME hip.asm_audit
         COMMAND ${PROBE_HIP_PYTHON3} ${_t}/asm_audit.py --table-exe $<TARGET_FILE:hip_kernel_table> ${_asm_args})
add_test(NAME hip.asm_audit_rejects_broken_kernels
         COMMAND ${PROBE_HIP_PYTHON3} ${_t}/asm_audit.py --table-file ${_t}/audit_bad_kernels.tsv --asm gfx90a=${_bad_asm}
                 --expect-fail)
add_test(NAME hip.no_device_list
         COMMAND ${PROBE_HIP_PYTHON3} ${_t}/test_no_device.py --probe $<TARGET_FILE:probe>
                 --plugin $<TARGET_FILE:probe_backend_hip>)
