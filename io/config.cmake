# wt_io_config: scenario-file foundation, values with units (units.c) and the YAML document tree
# (doc.c, read and written with libyaml). Included by io/CMakeLists.txt.
pkg_check_modules(YAML IMPORTED_TARGET yaml-0.1)
if(NOT YAML_FOUND)
  wt_missing("libyaml (yaml-0.1)" "libyaml-dev")
endif()
add_library(wt_io_config STATIC ${CMAKE_CURRENT_LIST_DIR}/units.c ${CMAKE_CURRENT_LIST_DIR}/doc.c)
target_include_directories(wt_io_config PUBLIC ${CMAKE_SOURCE_DIR})
target_link_libraries(wt_io_config PUBLIC PkgConfig::YAML ${MATH_LIBRARY})
add_subdirectory(${CMAKE_SOURCE_DIR}/tests/io_config ${CMAKE_BINARY_DIR}/tests/io_config)
