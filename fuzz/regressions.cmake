# regressions.cmake - included by tests/CMakeLists.txt: every fuzz target,
# built without libFuzzer (replay_main.c), replays its crashers kept in
# fuzz/regressions/<target>/ and its hand-written seeds in
# fuzz/corpus/<target>/ as ordinary ctest tests in the test build (gcc,
# ASan+UBSan when STRATA_SANITIZE=ON).
#
# Targets whose crashers are not fixed yet are listed in
# STRATA_FUZZ_PENDING: their tests carry the label `pending`, which
# scripts/test.sh leaves out by default (CTEST_ARGS). Take a target off the
# list once its findings are fixed.

set(STRATA_FUZZ_DIR ${CMAKE_SOURCE_DIR}/fuzz)
set(STRATA_FUZZ_TARGETS fuzz_migration fuzz_migration_name fuzz_predicate fuzz_seed_json fuzz_seed_source fuzz_url)
set(STRATA_FUZZ_PENDING) # none: the crashers of fuzz_migration_name and fuzz_url are fixed

foreach(t ${STRATA_FUZZ_TARGETS})
  string(REGEX REPLACE "^fuzz_" "" short ${t})
  add_executable(replay_${short} ${STRATA_FUZZ_DIR}/${t}.c ${STRATA_FUZZ_DIR}/fuzzutil.c
                                 ${STRATA_FUZZ_DIR}/replay_main.c)
  target_link_libraries(replay_${short} PRIVATE strata_internal)
  add_test(NAME fuzz_regressions_${short}
           COMMAND replay_${short} ${STRATA_FUZZ_DIR}/regressions/${t} ${STRATA_FUZZ_DIR}/corpus/${short})
  set(labels fuzz)
  list(FIND STRATA_FUZZ_PENDING ${t} pending)
  if(NOT pending EQUAL -1)
    list(APPEND labels pending)
  endif()
  set_tests_properties(fuzz_regressions_${short} PROPERTIES LABELS "${labels}" TIMEOUT 600)
endforeach()
