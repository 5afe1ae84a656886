# Where programs find Regula's files, in the build tree and once installed.

# Programs find plot.py as <ancestor of their directory>/share/regula/plot.py (core/plot.h):
# the build tree mirrors the installed layout with links to scripts/.
file(MAKE_DIRECTORY "${CMAKE_BINARY_DIR}/share/regula")
foreach(_item plot.py plotting)
  file(CREATE_LINK "${PROJECT_SOURCE_DIR}/scripts/${_item}" "${CMAKE_BINARY_DIR}/share/regula/${_item}" SYMBOLIC)
endforeach()
