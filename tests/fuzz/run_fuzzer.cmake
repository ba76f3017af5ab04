# run_fuzzer.cmake: one bounded libFuzzer smoke run (CTest label fuzz).
#   cmake -DFUZZER=<binary> -DCORPUS=<seed dir> -DWORK=<scratch dir>
#         -DSECONDS=<n> -P run_fuzzer.cmake
# The fuzzer grows a fresh copy of the seed corpus (WORK/corpus), so the
# checked-in corpus never changes; a crashing, leaking or slow input is
# written to WORK/artifacts/ and the run fails.
foreach(v FUZZER CORPUS WORK SECONDS)
  if(NOT DEFINED ${v})
    message(FATAL_ERROR "run_fuzzer.cmake: -D${v}=... is required")
  endif()
endforeach()
if(NOT IS_DIRECTORY ${CORPUS})
  message(FATAL_ERROR "no seed corpus at ${CORPUS}")
endif()
file(REMOVE_RECURSE ${WORK}/corpus)
file(MAKE_DIRECTORY ${WORK}/corpus ${WORK}/artifacts)
file(COPY ${CORPUS}/ DESTINATION ${WORK}/corpus)
execute_process(
  COMMAND ${FUZZER} -max_total_time=${SECONDS} -rss_limit_mb=2048 -timeout=10
          -print_final_stats=1 -artifact_prefix=${WORK}/artifacts/ ${WORK}/corpus
  RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${FUZZER} failed (${rc}); the input is in ${WORK}/artifacts/")
endif()
