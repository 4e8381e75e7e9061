# SPDX-License-Identifier: MIT
# The layer rule, enforced by the compiler: each layer's target gets an include root of its
# own (build/layers/LAYER/) holding links to the layer's own directory and to those that
# src/layers.txt allows it, and nothing else of src/. `#include "sim/sim.h"` from the CLI
# then fails to compile instead of compiling quietly.

file(STRINGS ${CMAKE_SOURCE_DIR}/src/layers.txt JOULES_LAYER_LINES REGEX "^[a-z]+:")
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/src/layers.txt)

# joules_layer(TARGET LAYER): TARGET's sources belong to LAYER.
function(joules_layer target layer)
  set(allowed "")
  foreach(line ${JOULES_LAYER_LINES})
    string(REGEX MATCH "^([a-z]+):(.*)$" _ "${line}")
    if(CMAKE_MATCH_1 STREQUAL layer)
      string(REGEX REPLACE "[ \t]+" ";" allowed "${CMAKE_MATCH_2}")
      set(found TRUE)
    endif()
  endforeach()
  if(NOT found)
    message(FATAL_ERROR "layer '${layer}' of target ${target} is not in src/layers.txt")
  endif()
  set(root ${CMAKE_BINARY_DIR}/layers/${layer})
  file(REMOVE_RECURSE ${root})
  file(MAKE_DIRECTORY ${root})
  foreach(dep ${layer} ${allowed})
    if(dep STREQUAL "public")
      target_include_directories(${target} PRIVATE ${CMAKE_SOURCE_DIR}/include)
    elseif(dep)
      file(CREATE_LINK ${CMAKE_SOURCE_DIR}/src/${dep} ${root}/${dep} SYMBOLIC)
    endif()
  endforeach()
  target_include_directories(${target} PRIVATE ${root})
endfunction()
