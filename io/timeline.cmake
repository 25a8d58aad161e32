# wt_io_timeline: the run's parallel HDF5 timeline writer and its serial reader (io/timeline.h).
add_library(wt_io_timeline STATIC ${CMAKE_CURRENT_LIST_DIR}/timeline.c)
target_include_directories(wt_io_timeline PUBLIC ${CMAKE_SOURCE_DIR} ${HDF5_C_INCLUDE_DIRS})
target_link_libraries(wt_io_timeline PUBLIC ${HDF5_C_LIBRARIES} MPI::MPI_C)
add_subdirectory(${CMAKE_SOURCE_DIR}/tests/timeline ${CMAKE_BINARY_DIR}/tests/timeline)
