# probe_add_backend(NAME SOURCES ...): a backend plugin, a shared module loaded at run time by the plugin
# loader. It is placed in the build tree's plugin folder so that the probe executable finds it beside itself.
function(probe_add_backend name)
  cmake_parse_arguments(ARG "" "OUTPUT_DIR" "SOURCES;LIBRARIES" ${ARGN})
  add_library(${name} MODULE ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE probe_contract probe_warnings ${ARG_LIBRARIES})
  set_target_properties(${name} PROPERTIES PREFIX "" CXX_VISIBILITY_PRESET hidden VISIBILITY_INLINES_HIDDEN ON)
  if(NOT ARG_OUTPUT_DIR)
    set(ARG_OUTPUT_DIR ${CMAKE_BINARY_DIR}/${PROBE_PLUGIN_SUBDIR})
  endif()
  set_target_properties(${name} PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${ARG_OUTPUT_DIR})
endfunction()
