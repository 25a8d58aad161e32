# `cmake --install`: the windtunnel binary, its data (the examples with the default scenario's
# trace) and the engine library (core/) with a CMake package config and a pkg-config file, in the
# GNUInstallDirs layout:
#   bin/windtunnel                                  finds share/windtunnel next to itself
#   share/windtunnel/examples/                      scenarios, traces, Slurm scripts, analyse.py
#   lib/libwt_core.a, include/windtunnel/*.h         the engine (core.h, event.h, rng.h, pack.h)
#   lib/cmake/windtunnel/windtunnelConfig.cmake     find_package(windtunnel): windtunnel::core
#   lib/pkgconfig/windtunnel-core.pc                pkg-config --cflags --libs windtunnel-core
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

install(TARGETS windtunnel RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(DIRECTORY ${CMAKE_SOURCE_DIR}/examples/
        DESTINATION ${CMAKE_INSTALL_DATADIR}/windtunnel/examples USE_SOURCE_PERMISSIONS)

set_target_properties(wt_core PROPERTIES EXPORT_NAME core)
install(TARGETS wt_core EXPORT windtunnelTargets ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/windtunnel)
install(FILES ${CMAKE_SOURCE_DIR}/core/core.h ${CMAKE_SOURCE_DIR}/core/event.h
              ${CMAKE_SOURCE_DIR}/core/rng.h ${CMAKE_SOURCE_DIR}/core/pack.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/windtunnel)
install(EXPORT windtunnelTargets NAMESPACE windtunnel::
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/windtunnel)
configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/windtunnelConfig.cmake.in
                              ${CMAKE_BINARY_DIR}/windtunnelConfig.cmake
                              INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/windtunnel)
write_basic_package_version_file(${CMAKE_BINARY_DIR}/windtunnelConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_BINARY_DIR}/windtunnelConfig.cmake
              ${CMAKE_BINARY_DIR}/windtunnelConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/windtunnel)
# From LIBDIR/pkgconfig back to the prefix ("../.." for lib): the .pc file finds its prefix.
file(RELATIVE_PATH WT_PC_TO_PREFIX ${CMAKE_INSTALL_FULL_LIBDIR}/pkgconfig ${CMAKE_INSTALL_PREFIX})
configure_file(${CMAKE_CURRENT_LIST_DIR}/windtunnel-core.pc.in
               ${CMAKE_BINARY_DIR}/windtunnel-core.pc @ONLY)
install(FILES ${CMAKE_BINARY_DIR}/windtunnel-core.pc
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
