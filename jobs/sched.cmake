# wt_jobs_sched: the continuous-batching scheduler and paged KV cache of one instance (jobs/sched.h),
# engine-independent; its tests and benchmark live in tests/sched.
add_library(wt_jobs_sched STATIC sched.c kvcache.c kvcache_tier.c)
target_link_libraries(wt_jobs_sched PUBLIC ${MATH_LIBRARY})
target_include_directories(wt_jobs_sched PUBLIC ${CMAKE_SOURCE_DIR})
add_subdirectory(${CMAKE_SOURCE_DIR}/tests/sched ${CMAKE_BINARY_DIR}/tests/sched)
