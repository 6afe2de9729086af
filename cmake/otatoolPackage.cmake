# otatool_add_package(): sign and package a firmware target after it links.
# Part of otatool's CMake package (find_package(otatool)); documented in
# otatool-cmake(7).
#
#   otatool_add_package(TARGET app RELEASE release.yaml
#                       KEY <key file | pkcs11:URI>
#                       FORMAT mcuboot|otatool OUTPUT app.signed.bin
#                       [CERT file] [CHAIN file]
#                       [IMAGE name] [KIND kind] [LOAD_ADDRESS address]
#                       [MANIFEST_ARGS args...] [EXTRA_ARGS args...])
#
# The build objcopies TARGET to a raw binary with CMAKE_OBJCOPY, describes
# the release (otatool manifest RELEASE, the binary as its one image), and
# packages and signs it (otatool package). Secrets never pass through
# CMake: otatool reads the token PIN (OTATOOL_PKCS11_PIN) and a key file's
# passphrase (OTATOOL_KEY_PASSPHRASE) from the build's environment, or a
# pin-source file named in the URI.

include_guard(GLOBAL)

function(otatool_add_package)
  cmake_parse_arguments(PARSE_ARGV 0 arg ""
    "TARGET;RELEASE;KEY;FORMAT;OUTPUT;CERT;CHAIN;IMAGE;KIND;LOAD_ADDRESS"
    "MANIFEST_ARGS;EXTRA_ARGS")
  set(fn otatool_add_package)
  if(arg_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "${fn}: unknown arguments: ${arg_UNPARSED_ARGUMENTS}")
  endif()
  foreach(required TARGET RELEASE KEY FORMAT OUTPUT)
    if(NOT DEFINED arg_${required} OR arg_${required} STREQUAL "")
      message(FATAL_ERROR "${fn}: ${required} is required")
    endif()
  endforeach()
  if(NOT TARGET ${arg_TARGET})
    message(FATAL_ERROR "${fn}: TARGET '${arg_TARGET}' is not a target "
                        "(call ${fn} after add_executable)")
  endif()
  if(NOT arg_FORMAT MATCHES "^(mcuboot|otatool)$")
    message(FATAL_ERROR "${fn}: FORMAT must be mcuboot or otatool, "
                        "not '${arg_FORMAT}'")
  endif()
  if(NOT CMAKE_OBJCOPY)
    message(FATAL_ERROR "${fn}: CMAKE_OBJCOPY is not set: the toolchain "
                        "file or -DCMAKE_OBJCOPY must name objcopy")
  endif()
  if(NOT TARGET otatool::otatool)
    message(FATAL_ERROR "${fn}: otatool::otatool is not defined: "
                        "call find_package(otatool) first")
  endif()

  # A secret in the cache would be written to CMakeCache.txt in clear and
  # show in cmake-gui; otatool reads it from the build's environment.
  foreach(secret OTATOOL_PKCS11_PIN OTATOOL_KEY_PASSPHRASE)
    if(DEFINED CACHE{${secret}})
      message(FATAL_ERROR "${fn}: ${secret} is in the CMake cache; remove "
        "it (cmake -U ${secret}) and set it in the environment of the "
        "build instead: otatool reads it from there")
    endif()
  endforeach()

  set(depends ${arg_TARGET} $<TARGET_FILE:${arg_TARGET}>)
  if(arg_KEY MATCHES "^[Pp][Kk][Cc][Ss]11:")
    # otatool refuses pin-value too, but only at build time, and the URI
    # would already be in the build files: refuse it here.
    string(TOLOWER "${arg_KEY}" key_lower)
    if(key_lower MATCHES "[:;?&]pin-value=")
      message(FATAL_ERROR "${fn}: KEY: a pin-value in a pkcs11: URI would "
        "put the PIN in the build files and on otatool's command line; "
        "set OTATOOL_PKCS11_PIN in the build's environment or name a file "
        "with pin-source")
    endif()
    set(key "${arg_KEY}")
  else()
    get_filename_component(key "${arg_KEY}" ABSOLUTE
                           BASE_DIR ${CMAKE_CURRENT_SOURCE_DIR})
    if(NOT EXISTS "${key}")
      message(FATAL_ERROR "${fn}: KEY file ${key} does not exist")
    endif()
    list(APPEND depends ${key})
  endif()

  get_filename_component(release "${arg_RELEASE}" ABSOLUTE
                         BASE_DIR ${CMAKE_CURRENT_SOURCE_DIR})
  if(NOT EXISTS "${release}")
    message(FATAL_ERROR "${fn}: RELEASE file ${release} does not exist")
  endif()
  list(APPEND depends ${release})

  # One argument each, quoted below: a pkcs11: URI holds ';'.
  set(key_arg "--key=${key}")
  set(package_args --format ${arg_FORMAT})
  foreach(file CERT CHAIN)
    if(DEFINED arg_${file})
      string(TOLOWER ${file} option)
      get_filename_component(path "${arg_${file}}" ABSOLUTE
                             BASE_DIR ${CMAKE_CURRENT_SOURCE_DIR})
      list(APPEND package_args --${option} ${path})
      list(APPEND depends ${path})
    endif()
  endforeach()

  get_filename_component(output "${arg_OUTPUT}" ABSOLUTE
                         BASE_DIR ${CMAKE_CURRENT_BINARY_DIR})
  get_filename_component(output_name "${output}" NAME)
  string(MAKE_C_IDENTIFIER "${output_name}" output_id)
  # One work directory per output: a target may be packaged twice.
  set(work ${CMAKE_CURRENT_BINARY_DIR}/otatool-${arg_TARGET}-${output_id})
  set(image ${arg_IMAGE})
  if(NOT image)
    set(image ${arg_TARGET})
  endif()
  set(kind ${arg_KIND})
  if(NOT kind)
    set(kind application)
  endif()
  set(image_arg ${image}:${kind}:${work}/${arg_TARGET}.bin)
  if(DEFINED arg_LOAD_ADDRESS)
    string(APPEND image_arg :${arg_LOAD_ADDRESS})
  endif()

  add_custom_command(OUTPUT ${output}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${work}
    COMMAND ${CMAKE_OBJCOPY} -O binary $<TARGET_FILE:${arg_TARGET}>
            ${work}/${arg_TARGET}.bin
    COMMAND otatool::otatool manifest ${release} --image ${image_arg}
            ${arg_MANIFEST_ARGS} -q -o ${work}/manifest.json
    COMMAND otatool::otatool package "${key_arg}" ${package_args}
            ${arg_EXTRA_ARGS}
            -q -o ${output} ${work}/manifest.json
    DEPENDS ${depends}
    # git facts (commit, tag, a dirty tree) of the sources, not the build
    WORKING_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR}
    COMMENT "otatool: packaging ${arg_TARGET} (${arg_FORMAT}) into ${output}"
    VERBATIM)
  add_custom_target(${arg_TARGET}-${output_id} ALL DEPENDS ${output})
endfunction()
