# regula_add_library(<name> SOURCES ... DEPS ...)
# One static library per folder; the first one owns the precompiled header
# and every later target reuses it.
function(regula_add_library name)
  cmake_parse_arguments(A "" "" "SOURCES;DEPS" ${ARGN})
  add_library(${name} STATIC ${A_SOURCES})
  target_link_libraries(${name} PUBLIC regula_torch ${A_DEPS})
  regula_use_pch(${name})
endfunction()

function(regula_use_pch target)
  if(NOT REGULA_USE_PCH)
    return()
  endif()
  if(NOT TARGET regula_pch)
    # A tiny object library that owns the PCH; all targets reuse it.
    add_library(regula_pch OBJECT ${PROJECT_SOURCE_DIR}/core/pch.cpp)
    target_link_libraries(regula_pch PUBLIC regula_torch)
    target_precompile_headers(regula_pch PRIVATE ${PROJECT_SOURCE_DIR}/core/pch.h)
  endif()
  target_precompile_headers(${target} REUSE_FROM regula_pch)
  # The PCH is compiled -fPIC (CMAKE_POSITION_INDEPENDENT_CODE) and gcc rejects it for an
  # executable's -fPIE, so programs compile -fPIC too (the later flag wins; still linked as PIE).
  get_target_property(_type ${target} TYPE)
  if(_type STREQUAL "EXECUTABLE")
    target_compile_options(${target} PRIVATE -fPIC)
  endif()
endfunction()
