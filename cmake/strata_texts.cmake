# strata_texts.cmake - run with cmake -P: write the man page and the shell
# completion scripts the strata tool prints about itself (cli/help.c), so
# they come from the same tables as its --help.
#   -DSTRATA=<the built tool> -DOUT=<directory>
foreach(what "manpage;strata.1" "completion;bash;strata.bash" "completion;zsh;_strata")
  list(POP_BACK what file)
  execute_process(COMMAND ${STRATA} ${what} OUTPUT_FILE ${OUT}/${file}.tmp
                  RESULT_VARIABLE rc ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "strata ${what} failed (${rc}): ${err}")
  endif()
  file(RENAME ${OUT}/${file}.tmp ${OUT}/${file})
endforeach()
