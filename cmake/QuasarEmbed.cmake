# quasar_embed(TARGET DIR EXT HEADER NAMESPACE STRUCT ARRAY FIELD): generates HEADER (in the
# target's build folder, on its include path) holding every DIR/*.EXT as a raw string.
function(quasar_embed target dir ext header namespace struct array field)
  file(GLOB inputs CONFIGURE_DEPENDS ${dir}/*.${ext})
  set(out ${CMAKE_CURRENT_BINARY_DIR}/generated/${header})
  add_custom_command(OUTPUT ${out}
    COMMAND ${CMAKE_COMMAND} -DDIR=${dir} -DEXT=${ext} -DNAMESPACE=${namespace} -DSTRUCT=${struct}
            -DARRAY=${array} -DFIELD=${field} -DOUTPUT=${out} -P ${PROJECT_SOURCE_DIR}/cmake/embed_files.cmake
    DEPENDS ${inputs} ${PROJECT_SOURCE_DIR}/cmake/embed_files.cmake
    COMMENT "Embedding ${dir}/*.${ext}")
  target_sources(${target} PRIVATE ${out})
  target_include_directories(${target} PRIVATE ${CMAKE_CURRENT_BINARY_DIR}/generated)
endfunction()
