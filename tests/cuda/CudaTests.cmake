# CUDA backend tests. probes/cuda/CMakeLists.txt defers this file to the end of the top-level directory (where
# testing is enabled and every target exists), so paths here are explicit. None needs a GPU:
#  - cuda.reference.*: the host reference and input design (exactness for any iteration count), gtest;
#  - cuda.ptx_audit: every kernel's timed loop in the PTX of every target it is built for;
#  - cuda.ptx_audit_rejects_broken_kernels: the audit fails deliberately broken kernels;
#  - cuda.ptxas_audit (+ _rejects_bad_resources): ptxas' report: no spills, no stack, no serialized wgmma;
#  - cuda.sass_audit (+ _rejects_broken_kernels): the machine code's timed loops, where nvdisasm exists (else
#    skipped: the toolkit on our machines has none);
#  - cuda.no_driver_list: probe --list with the plugin present on a machine without a driver;
#  - cuda.validate_dry_run: bench/gpu/validate.sh's one-call run stops at its "no driver" line with its files;
#  - cuda.library.*: the cuBLASLt cross-check's host side; cuda.plugin_has_no_cublas_or_libcuda_dependency.
find_package(GTest CONFIG REQUIRED)
include(GoogleTest)
find_program(PROBE_CUDA_PYTHON3 NAMES python3 REQUIRED)
set(_t ${PROJECT_SOURCE_DIR}/tests/cuda)
set(_p ${PROJECT_SOURCE_DIR}/probes/cuda)
set(_k ${PROJECT_SOURCE_DIR}/kernels/cuda)
get_property(_flags GLOBAL PROPERTY PROBE_CUDA_FLAGS)
set(_ptx_dir ${CMAKE_BINARY_DIR}/probes/cuda/ptx)
get_filename_component(_cuda_bin ${CMAKE_CUDA_COMPILER} DIRECTORY)
find_program(PROBE_PTXAS ptxas HINTS ${_cuda_bin} NO_DEFAULT_PATH REQUIRED)
find_program(PROBE_NVDISASM nvdisasm HINTS ${_cuda_bin})

add_executable(test_cuda_reference ${_t}/test_reference.cpp ${_p}/reference.cpp)
target_include_directories(test_cuda_reference PRIVATE ${_p} ${_k} ${PROJECT_SOURCE_DIR}/probes/gpu)
target_link_libraries(test_cuda_reference PRIVATE GTest::gtest_main fmt::fmt probe_contract probe_core probe_warnings)
gtest_discover_tests(test_cuda_reference TEST_PREFIX "cuda.reference." DISCOVERY_TIMEOUT 60)

# PTX of each kernel file for each real target, from the same sources and flags as the fatbin, then ptxas on it
# (what nvcc runs for the fatbin) for the machine code and ptxas' resource report.
set(_ptx_args)
set(_cubin_args)
set(_log_args)
set(_outputs)
# ptx_cubin(NAME ARCH SOURCE EXTRA_FLAGS...): NAME_sm_ARCH.{ptx,cubin,ptxas.txt}.
function(ptx_cubin name arch src)
  set(_base ${_ptx_dir}/${name}_sm_${arch})
  add_custom_command(OUTPUT ${_base}.ptx
    COMMAND ${CMAKE_CUDA_COMPILER} -std=c++17 ${ARGN} -ptx -gencode=arch=compute_${arch},code=sm_${arch} -I${_k}
            ${src} -o ${_base}.ptx
    DEPENDS ${src} ${_k}/cuda_kernels.hpp ${_k}/wgmma_ops.cuh ${PROJECT_SOURCE_DIR}/kernels/common/gpu_vector_body.hpp
            ${PROJECT_SOURCE_DIR}/kernels/common/gpu_memory_kernels.inc
            ${PROJECT_SOURCE_DIR}/kernels/common/gpu_portability.hpp
    COMMENT "PTX ${name} sm_${arch}" VERBATIM)
  add_custom_command(OUTPUT ${_base}.cubin ${_base}.ptxas.txt
    COMMAND ${_t}/ptxas_logged.sh ${_base}.ptxas.txt ${PROBE_PTXAS} -v -arch=sm_${arch} ${_base}.ptx -o ${_base}.cubin
    DEPENDS ${_base}.ptx ${_t}/ptxas_logged.sh COMMENT "ptxas ${name} sm_${arch}" VERBATIM)
endfunction()
foreach(_arch 80 86 89 90a 100 100a 120)
  foreach(_f vector mma wgmma memory)
    ptx_cubin(${_f} ${_arch} ${_k}/${_f}.cu ${_flags})
    set(_base ${_ptx_dir}/${_f}_sm_${_arch})
    list(APPEND _outputs ${_base}.ptx ${_base}.cubin ${_base}.ptxas.txt)
    list(APPEND _ptx_args --ptx ${_arch}=${_base}.ptx)
    list(APPEND _cubin_args --cubin ${_arch}=${_base}.cubin)
    list(APPEND _log_args --log ${_arch}=${_base}.ptxas.txt)
  endforeach()
endforeach()
ptx_cubin(audit_bad_kernels 90a ${_t}/audit_bad_kernels.cu)
ptx_cubin(audit_bad_resources 90a ${_t}/audit_bad_resources.cu)
set(_bad ${_ptx_dir}/audit_bad_kernels_sm_90a)
set(_bad_res ${_ptx_dir}/audit_bad_resources_sm_90a)
add_custom_target(cuda_ptx ALL DEPENDS ${_outputs} ${_bad}.cubin ${_bad_res}.cubin)

add_test(NAME cuda.ptx_audit
         COMMAND ${PROBE_CUDA_PYTHON3} ${_t}/ptx_audit.py --table-exe $<TARGET_FILE:cuda_kernel_table> ${_ptx_args})
add_test(NAME cuda.ptx_audit_rejects_broken_kernels
         COMMAND ${PROBE_CUDA_PYTHON3} ${_t}/ptx_audit.py --table-file ${_t}/audit_bad_kernels.tsv --ptx 90a=${_bad}.ptx
                 --expect-fail)
add_test(NAME cuda.ptxas_audit
         COMMAND ${PROBE_CUDA_PYTHON3} ${_t}/ptxas_audit.py --table-exe $<TARGET_FILE:cuda_kernel_table> ${_log_args})
add_test(NAME cuda.ptxas_audit_rejects_bad_resources
         COMMAND ${PROBE_CUDA_PYTHON3} ${_t}/ptxas_audit.py --log 90a=${_bad_res}.ptxas.txt --expect-fail)
# Exit 77 (skipped) where no nvdisasm is found at configure time, on PATH, $PROBE_NVDISASM or under $CUDA_HOME.
add_test(NAME cuda.sass_audit
         COMMAND ${PROBE_CUDA_PYTHON3} ${_t}/sass_audit.py --nvdisasm "${PROBE_NVDISASM}"
                 --table-exe $<TARGET_FILE:cuda_kernel_table> ${_cubin_args})
add_test(NAME cuda.sass_audit_rejects_broken_kernels
         COMMAND ${PROBE_CUDA_PYTHON3} ${_t}/sass_audit.py --nvdisasm "${PROBE_NVDISASM}"
                 --table-file ${_t}/audit_bad_kernels.tsv --cubin 90a=${_bad}.cubin --expect-fail)
set_tests_properties(cuda.sass_audit cuda.sass_audit_rejects_broken_kernels PROPERTIES SKIP_RETURN_CODE 77)
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
# bench/gpu/validate.sh's one-call run, dry: no driver here, so it must stop at the "no driver" line with its files.
add_test(NAME cuda.validate_dry_run
         COMMAND ${PROBE_CUDA_PYTHON3} ${_t}/test_validate_dry_run.py ${PROJECT_SOURCE_DIR}/bench/gpu/validate.sh
                 $<TARGET_FILE:probe>)
set_tests_properties(cuda.validate_dry_run PROPERTIES TIMEOUT 900)
# bench/gpu/validate.sh's summary table from a report JSON alone (synthetic H200 report; no GPU).
add_test(NAME cuda.validate_summary_from_report
         COMMAND ${PROBE_CUDA_PYTHON3} ${_t}/test_validate_summary.py ${PROJECT_SOURCE_DIR}/bench/gpu/validate.sh)
