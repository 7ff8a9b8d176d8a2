# Internal helpers: one call per library or test target, so every target gets
# the same standard, warnings and alias.

function(vmtest_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow=local -Wnon-virtual-dtor -Wno-missing-field-initializers)
  if(VMTEST_WARNINGS_AS_ERRORS)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()

# vmtest_add_library(NAME <name> SOURCES ... DEPS ...)
# Creates vmtest_<name> with the alias vmtest::<name>, exported as vmtest::<name>.
function(vmtest_add_library)
  cmake_parse_arguments(ARG "" "NAME" "SOURCES;DEPS;PRIVATE_DEPS" ${ARGN})
  set(target vmtest_${ARG_NAME})
  add_library(${target} ${ARG_SOURCES})
  add_library(vmtest::${ARG_NAME} ALIAS ${target})
  set_target_properties(${target} PROPERTIES EXPORT_NAME ${ARG_NAME} OUTPUT_NAME vmtest_${ARG_NAME})
  target_compile_features(${target} PUBLIC cxx_std_20)
  # include/: the public headers, installed. internal/: headers other components of this
  # build include but users never see; the same <vmtest/...> paths, not installed.
  if(EXISTS "${CMAKE_CURRENT_SOURCE_DIR}/include")
    target_include_directories(${target} PUBLIC
      $<BUILD_INTERFACE:${CMAKE_CURRENT_SOURCE_DIR}/include>
      $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
    install(DIRECTORY include/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
  endif()
  if(EXISTS "${CMAKE_CURRENT_SOURCE_DIR}/internal")
    target_include_directories(${target} PUBLIC $<BUILD_INTERFACE:${CMAKE_CURRENT_SOURCE_DIR}/internal>)
  endif()
  target_link_libraries(${target} PUBLIC ${ARG_DEPS} PRIVATE ${ARG_PRIVATE_DEPS})
  vmtest_warnings(${target})
  install(TARGETS ${target} EXPORT vmtestTargets
    ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
endfunction()

# vmtest_add_unit_test(NAME <name> SOURCES ... DEPS ...)
# A gtest binary whose tests are discovered one by one, labelled `unit`.
function(vmtest_add_unit_test)
  cmake_parse_arguments(ARG "" "NAME" "SOURCES;DEPS;ENV" ${ARGN})
  add_executable(${ARG_NAME} ${ARG_SOURCES})
  target_link_libraries(${ARG_NAME} PRIVATE ${ARG_DEPS} GTest::gmock GTest::gtest_main)
  vmtest_warnings(${ARG_NAME})
  gtest_discover_tests(${ARG_NAME}
    DISCOVERY_MODE PRE_TEST DISCOVERY_TIMEOUT 60
    PROPERTIES LABELS unit ENVIRONMENT "${ARG_ENV}")
endfunction()

include(${CMAKE_CURRENT_LIST_DIR}/VmtestSuite.cmake)
