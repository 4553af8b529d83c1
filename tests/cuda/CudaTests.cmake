# CUDA backend tests. probes/cuda/CMakeLists.txt defers this file to the end of the top-level directory (where
# testing is enabled and every target exists), so paths here are explicit. None needs a GPU:
#  - cuda.reference.*: the host reference and input design (exactness for any iteration count), gtest;
#  - cuda.ptx_audit: every kernel's timed loop in the PTX of every target it is built for;
#  - cuda.ptx_audit_rejects_broken_kernels: the audit fails deliberately broken kernels;
#  - cuda.no_driver_list: probe --list with the plugin present on a machine without a driver;
#  - cuda.library.*: the cuBLASLt cross-check's host side; cuda.plugin_has_no_cublas_or_libcuda_dependency.
find_package(GTest CONFIG REQUIRED)
include(GoogleTest)
find_program(PROBE_CUDA_PYTHON3 NAMES python3 REQUIRED)
set(_t ${PROJECT_SOURCE_DIR}/tests/cuda)
set(_p ${PROJECT_SOURCE_DIR}/probes/cuda)
set(_k ${PROJECT_SOURCE_DIR}/kernels/cuda)
get_property(_flags GLOBAL PROPERTY PROBE_CUDA_FLAGS)
set(_ptx_dir ${CMAKE_BINARY_DIR}/probes/cuda/ptx)

add_executable(test_cuda_reference ${_t}/test_reference.cpp ${_p}/reference.cpp)
target_include_directories(test_cuda_reference PRIVATE ${_p} ${_k} ${PROJECT_SOURCE_DIR}/probes/gpu)
target_link_libraries(test_cuda_reference PRIVATE GTest::gtest_main fmt::fmt probe_warnings)
gtest_discover_tests(test_cuda_reference TEST_PREFIX "cuda.reference." DISCOVERY_TIMEOUT 60)

# PTX of each compute kernel family for each real target, from the same sources and flags as the fatbin.
set(_ptx_args)
set(_ptx_files)
foreach(_arch 80 86 89 90a 100a 120)
  foreach(_f vector mma wgmma)
    set(_out ${_ptx_dir}/${_f}_sm_${_arch}.ptx)
    add_custom_command(OUTPUT ${_out}
      COMMAND ${CMAKE_CUDA_COMPILER} -std=c++17 ${_flags} -ptx -gencode=arch=compute_${_arch},code=sm_${_arch}
              -I${_k} ${_k}/${_f}.cu -o ${_out}
      DEPENDS ${_k}/${_f}.cu ${_k}/cuda_kernels.hpp
              ${_k}/wgmma_ops.cuh
      COMMENT "PTX ${_f}.cu sm_${_arch}" VERBATIM)
    list(APPEND _ptx_files ${_out})
    list(APPEND _ptx_args --ptx ${_arch}=${_out})
  endforeach()
endforeach()
set(_bad_ptx ${_ptx_dir}/audit_bad_kernels_sm_90a.ptx)
add_custom_command(OUTPUT ${_bad_ptx}
  COMMAND ${CMAKE_CUDA_COMPILER} -std=c++17 -ptx -gencode=arch=compute_90a,code=sm_90a ${_t}/audit_bad_kernels.cu -o ${_bad_ptx}
  DEPENDS ${_t}/audit_bad_kernels.cu COMMENT "PTX of the broken audit fixtures" VERBATIM)
add_custom_target(cuda_ptx ALL DEPENDS ${_ptx_files} ${_bad_ptx})

add_test(NAME cuda.ptx_audit
         COMMAND ${PROBE_CUDA_PYTHON3} ${_t}/ptx_audit.py --table-exe $<TARGET_FILE:cuda_kernel_table> ${_ptx_args})
add_test(NAME cuda.ptx_audit_rejects_broken_kernels
         COMMAND ${PROBE_CUDA_PYTHON3} ${_t}/ptx_audit.py --table-file ${_t}/audit_bad_kernels.tsv --ptx 90a=${_bad_ptx}
                 --expect-fail)
add_test(NAME cuda.no_driver_list
         COMMAND ${PROBE_CUDA_PYTHON3} ${_t}/test_no_driver.py --probe $<TARGET_FILE:probe>
                 --plugin $<TARGET_FILE:probe_backend_cuda>)

# The portable bundle (scripts/bundle.sh): a second, portable build of probe and the plugin, so it is labelled
# `bundle` (ctest -LE bundle skips it).
add_test(NAME cuda.bundle_runs_from_a_bare_folder
         COMMAND ${_t}/test_bundle.sh ${PROJECT_SOURCE_DIR} ${CMAKE_BINARY_DIR}/bundle-test)
set_tests_properties(cuda.bundle_runs_from_a_bare_folder PROPERTIES LABELS bundle TIMEOUT 1800 RUN_SERIAL TRUE)

# The library cross-check's host side (dlopen reporting, op count, sampled GEMM verification), gtest.
add_executable(test_cuda_library_check ${_t}/test_library_check.cpp ${_p}/library_check.cpp)
target_include_directories(test_cuda_library_check PRIVATE ${_p})
target_link_libraries(test_cuda_library_check PRIVATE GTest::gtest_main fmt::fmt ${CMAKE_DL_LIBS} probe_warnings)
gtest_discover_tests(test_cuda_library_check TEST_PREFIX "cuda.library." DISCOVERY_TIMEOUT 60)
# cuBLASLt is opened with dlopen: the plugin must not depend on it (nor on libcuda) at link time.
add_test(NAME cuda.plugin_has_no_cublas_or_libcuda_dependency
         COMMAND sh -c "readelf -d \"$1\" | grep NEEDED; ! readelf -d \"$1\" | grep -E 'NEEDED.*(cublas|libcuda\\.so)'"
                 sh $<TARGET_FILE:probe_backend_cuda>)
# bench/gpu/validate.sh's summary table from a report JSON alone (synthetic H200 report; no GPU).
add_test(NAME cuda.validate_summary_from_report
         COMMAND ${PROBE_CUDA_PYTHON3} ${_t}/test_validate_summary.py ${PROJECT_SOURCE_DIR}/bench/gpu/validate.sh)
