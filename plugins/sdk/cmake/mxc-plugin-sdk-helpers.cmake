# mxc_add_backend_plugin(<name> <sources>...)
#
# Builds backend <name> as the MODULE library lib<name>.so, which is the file
# the runtime looks for when a bundle selects backend <name>. Only the entry
# point is exported: symbols are hidden by default (mark mxc_plugin_entry with
# __attribute__((visibility("default")))) and a linker version script hides
# the rest, std template instantiations included. Installs it to
# ${MXC_PLUGIN_INSTALL_DIR}, by default lib/mxc-runtime/plugins under
# CMAKE_INSTALL_PREFIX: install with the runtime's own prefix and the runtime
# finds it with no flags (otherwise use --plugin-path or MXC_PLUGIN_PATH).
set(MXC_PLUGIN_INSTALL_DIR "${MXC_PLUGIN_SDK_PLUGIN_RELDIR}"
    CACHE STRING "Where mxc_add_backend_plugin installs plugins (relative to the prefix)")

if(CMAKE_VERSION VERSION_LESS 3.17)
  message(FATAL_ERROR "mxc-plugin-sdk: mxc_add_backend_plugin needs CMake 3.17 or later")
endif()

function(mxc_add_backend_plugin name)
  if(NOT name MATCHES "^[a-z0-9_-]+$")
    message(FATAL_ERROR "mxc_add_backend_plugin: backend name \"${name}\" must match [a-z0-9_-]+")
  endif()
  if(NOT ARGN)
    message(FATAL_ERROR "mxc_add_backend_plugin(${name}): no sources")
  endif()
  add_library(${name} MODULE ${ARGN})
  set_target_properties(${name} PROPERTIES
    PREFIX "lib"
    SUFFIX ".so"
    C_VISIBILITY_PRESET hidden
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)
  target_link_libraries(${name} PRIVATE mxc::plugin-sdk)
  set(version_script "${CMAKE_CURRENT_FUNCTION_LIST_DIR}/mxc-plugin.map")
  if(CMAKE_SYSTEM_NAME STREQUAL "Linux")
    # An unresolved symbol should fail the build, not the runtime's dlopen().
    target_link_options(${name} PRIVATE -Wl,--no-undefined
                        "-Wl,--version-script=${version_script}")
    set_property(TARGET ${name} APPEND PROPERTY LINK_DEPENDS "${version_script}")
  endif()
  install(TARGETS ${name} LIBRARY DESTINATION "${MXC_PLUGIN_INSTALL_DIR}")
endfunction()
