# What `cmake --install` adds beyond the binary, man pages and completions
# (CMakeLists.txt): the examples, the device library with its headers and
# pkg-config file, and the CMake package (find_package(otatool)) with
# otatool_add_package(). Paths from GNUInstallDirs throughout, so that
# Debian's multiarch libdir and any prefix work.
include(CMakePackageConfigHelpers)

install(DIRECTORY ${CMAKE_SOURCE_DIR}/examples/
        DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples
        USE_SOURCE_PERMISSIONS
        PATTERN "build" EXCLUDE)

# The device library: the very code a bootloader runs (src/device/, C99,
# no heap), for host-side tests of a device project.
file(GLOB OTATOOL_DEVICE_HEADERS ${CMAKE_SOURCE_DIR}/src/device/*.h)
add_library(otatool_device STATIC ${OTATOOL_DEVICE_SOURCES})
set_target_properties(otatool_device PROPERTIES
  OUTPUT_NAME otatool-device EXPORT_NAME device C_STANDARD 99
  POSITION_INDEPENDENT_CODE ON)
target_include_directories(otatool_device PUBLIC
  $<BUILD_INTERFACE:${CMAKE_SOURCE_DIR}/src/device>
  $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}/otatool-device>)
install(TARGETS otatool_device EXPORT otatoolDeviceTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(FILES ${OTATOOL_DEVICE_HEADERS}
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/otatool-device)
# From LIBDIR/pkgconfig back to the prefix, wherever that is installed.
file(RELATIVE_PATH OTATOOL_PC_TO_PREFIX
     /prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig /prefix)
string(REGEX REPLACE "/$" "" OTATOOL_PC_TO_PREFIX "${OTATOOL_PC_TO_PREFIX}")
configure_file(${CMAKE_SOURCE_DIR}/cmake/otatool-device.pc.in
               ${CMAKE_BINARY_DIR}/otatool-device.pc @ONLY)
install(FILES ${CMAKE_BINARY_DIR}/otatool-device.pc
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

# The CMake package. Two export sets, so that the otatool package alone
# (the executable and the function) works without the device library.
# The package itself lies in DATADIR: a cross build (no host library
# architecture, CMAKE_LIBRARY_ARCHITECTURE empty) does not search
# lib/<triplet>/cmake, but does search share/cmake. The device library's
# targets, which name the multiarch library, lie in LIBDIR beside it.
set(OTATOOL_CMAKE_DIR ${CMAKE_INSTALL_DATADIR}/cmake/otatool)
set(OTATOOL_DEVICE_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/otatool)
install(EXPORT otatoolTargets NAMESPACE otatool::
        DESTINATION ${OTATOOL_CMAKE_DIR})
install(EXPORT otatoolDeviceTargets NAMESPACE otatool::
        DESTINATION ${OTATOOL_DEVICE_CMAKE_DIR})
configure_package_config_file(${CMAKE_SOURCE_DIR}/cmake/otatoolConfig.cmake.in
  ${CMAKE_BINARY_DIR}/otatoolConfig.cmake
  INSTALL_DESTINATION ${OTATOOL_CMAKE_DIR})
# 0.x: a minor release may change the function's arguments. Not checked
# against the consumer's pointer size: a firmware build is a 32-bit cross
# build that runs this 64-bit host tool (otatool::device, a host library,
# is for host-side test projects).
write_basic_package_version_file(${CMAKE_BINARY_DIR}/otatoolConfigVersion.cmake
  COMPATIBILITY SameMinorVersion ARCH_INDEPENDENT)
install(FILES ${CMAKE_BINARY_DIR}/otatoolConfig.cmake
              ${CMAKE_BINARY_DIR}/otatoolConfigVersion.cmake
              ${CMAKE_SOURCE_DIR}/cmake/otatoolPackage.cmake
        DESTINATION ${OTATOOL_CMAKE_DIR})
