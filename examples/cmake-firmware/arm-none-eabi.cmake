# CMake toolchain file: Debian's gcc-arm-none-eabi with newlib-nano, for a
# Cortex-M4F. CMake finds arm-none-eabi-objcopy (CMAKE_OBJCOPY) beside the
# compiler.
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR arm)
set(CMAKE_C_COMPILER arm-none-eabi-gcc)
# No operating system to run a test executable on: try static libraries.
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)
set(CMAKE_C_FLAGS_INIT "-mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16")
set(CMAKE_EXE_LINKER_FLAGS_INIT "--specs=nano.specs --specs=nosys.specs")
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
# find_package(otatool) looks for a host tool: search the host prefixes.
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE NEVER)
