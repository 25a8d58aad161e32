# wt_jobs_trace: request sources (trace readers and synthetic workloads); tests in tests/trace.
add_library(wt_jobs_trace STATIC trace.c workload.c)
target_include_directories(wt_jobs_trace PUBLIC ${CMAKE_SOURCE_DIR} ${RANDOM123_INCLUDE_DIR})
target_link_libraries(wt_jobs_trace PUBLIC wt_util ${MATH_LIBRARY})
add_subdirectory(${CMAKE_SOURCE_DIR}/tests/trace ${CMAKE_BINARY_DIR}/tests/trace)
