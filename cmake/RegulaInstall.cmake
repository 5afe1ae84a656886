# `cmake --install <build> --prefix <prefix>` lays Regula out as a CMake package:
#   lib/libregula_*.a                      the six libraries regula::regula links
#   include/regula/<folder>/*.h            public headers: #include "core/config.h" as in the tree
#   include/regula/fmt-shim/fmt            link to the fmt Regula was built with (see CMakeLists.txt)
#   lib/cmake/regula/regulaConfig*.cmake   find_package(regula CONFIG) -> regula::regula
#   bin/regula, share/regula/plot.py + plotting/
# tests/install_package.sh installs it and builds examples/ against it.
# Programs find plot.py as <ancestor of their directory>/share/regula/plot.py (core/plot.h):
# the build tree mirrors the installed layout with links to scripts/.
file(MAKE_DIRECTORY "${CMAKE_BINARY_DIR}/share/regula")
foreach(_item plot.py plotting)
  file(CREATE_LINK "${PROJECT_SOURCE_DIR}/scripts/${_item}" "${CMAKE_BINARY_DIR}/share/regula/${_item}" SYMBOLIC)
endforeach()
if(NOT REGULA_INSTALL)
  return()
endif()

include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(REGULA_INSTALL_CMAKEDIR "${CMAKE_INSTALL_LIBDIR}/cmake/regula")
set_target_properties(regula_all PROPERTIES EXPORT_NAME regula)
install(TARGETS regula_torch regula_core regula_models regula_regularizers regula_trainers regula_sparse regula_pinn regula_all
        EXPORT regulaTargets ARCHIVE DESTINATION "${CMAKE_INSTALL_LIBDIR}")
foreach(_dir core models regularizers trainers)
  install(DIRECTORY "${_dir}/" DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}/regula/${_dir}"
          FILES_MATCHING PATTERN "*.h" PATTERN "pch.h" EXCLUDE)
endforeach()
# The shim is a link to the fmt headers found at configure time, installed as a link.
install(DIRECTORY "${REGULA_FMT_SHIM}/" DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}/regula/fmt-shim")
install(EXPORT regulaTargets NAMESPACE regula:: DESTINATION "${REGULA_INSTALL_CMAKEDIR}")
configure_package_config_file(cmake/regulaConfig.cmake.in "${CMAKE_BINARY_DIR}/regulaConfig.cmake"
  INSTALL_DESTINATION "${REGULA_INSTALL_CMAKEDIR}")
write_basic_package_version_file("${CMAKE_BINARY_DIR}/regulaConfigVersion.cmake" COMPATIBILITY SameMinorVersion)
install(FILES "${CMAKE_BINARY_DIR}/regulaConfig.cmake" "${CMAKE_BINARY_DIR}/regulaConfigVersion.cmake"
        DESTINATION "${REGULA_INSTALL_CMAKEDIR}")

if(REGULA_BUILD_APPS)
  install(TARGETS regula RUNTIME DESTINATION "${CMAKE_INSTALL_BINDIR}")
endif()
# share/regula, not DATADIR: core/plot.cpp looks for this path.
install(FILES scripts/plot.py DESTINATION share/regula)
install(DIRECTORY scripts/plotting DESTINATION share/regula PATTERN "__pycache__" EXCLUDE)
