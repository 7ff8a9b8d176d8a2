# vmtest_add_suite(): register one VM suite as one ctest entry.
#
# A VM suite boots its cluster once (ClusterTest::SetUpTestSuite) and all its
# tests share it, so the whole binary is a single ctest test instead of one
# process per TEST_F (which would reboot the cluster each time).
#
#   vmtest_add_suite(NAME driver.minimal TARGET driver_minimal_suite
#                    MANIFEST ${guest_dir}/single/manifest.json
#                    LABELS guest-minimal TIMEOUT 900 PROCESSORS 1)
#
# NAME       ctest name
# TARGET     the gtest executable
# MANIFEST   manifest path (exported as VMTEST_MANIFEST); may be empty, then
#            the suite skips (or fails under VMTEST_REQUIRE) with its reason
#
# The binary's main() must end with vmtest::suite_exit_code(RUN_ALL_TESTS())
# (vmtest::fixtures_main does): exit status 77 means "skipped, no cluster".
# LABELS     ctest labels (the tier: guest-minimal, guest-systemd, k0s)
# TIMEOUT    seconds for the whole suite (boot included)
# PROCESSORS CPUs the suite keeps busy (QEMU threads), for ctest -j
# FIXTURES   ctest fixtures required (e.g. the guest build)
# ENV        extra environment entries (VAR=value)
# ARGS       extra arguments to the binary
function(vmtest_add_suite)
  cmake_parse_arguments(ARG "" "NAME;TARGET;MANIFEST;TIMEOUT;PROCESSORS" "LABELS;FIXTURES;ENV;ARGS" ${ARGN})
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 1800)
  endif()
  if(NOT ARG_PROCESSORS)
    set(ARG_PROCESSORS 1)
  endif()
  set(artifacts "${CMAKE_BINARY_DIR}/Testing/vmtest-artifacts/${ARG_NAME}")
  add_test(NAME ${ARG_NAME}
    COMMAND $<TARGET_FILE:${ARG_TARGET}> ${ARG_ARGS}
      "--gtest_output=xml:${CMAKE_BINARY_DIR}/Testing/junit/${ARG_NAME}.xml")
  set(env "VMTEST_ARTIFACTS=${artifacts}" ${ARG_ENV})
  if(ARG_MANIFEST)
    list(APPEND env "VMTEST_MANIFEST=${ARG_MANIFEST}")
  endif()
  set_tests_properties(${ARG_NAME} PROPERTIES
    LABELS "${ARG_LABELS}"
    TIMEOUT ${ARG_TIMEOUT}
    PROCESSORS ${ARG_PROCESSORS}
    ENVIRONMENT "${env}"
    # The suite's main() returns 77 (vmtest::suite_exit_code) only when its
    # cluster is absent and every test skipped; the reasons are in the
    # output. A failure beside a skip is a failure (a regular expression on
    # the output could not tell them apart).
    SKIP_RETURN_CODE 77
    )
  if(ARG_FIXTURES)
    set_tests_properties(${ARG_NAME} PROPERTIES FIXTURES_REQUIRED "${ARG_FIXTURES}")
  endif()
endfunction()
